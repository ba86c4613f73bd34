// What the test boot's verdict does to the image: a pass is recorded on it (the same bytes never boot again,
// whatever rebuilt them); a failure deletes the build's uploads, which never became generations.
import { credentialsProject, familyImage } from "../family/run.ts";
import type { FamilyImage } from "../family/run.ts";
import { openstackCli } from "../program/openstackCli.ts";
import type { Cli } from "../program/openstackCli.ts";
import { VERIFIED_PROPERTY } from "../program/marks.ts";
import type { TestBootRequest } from "../program/request.ts";
import type { TestBootReport } from "./run.ts";

/** The image to boot, when it is this stack's; a clear error when it is gone. */
export async function imageToVerify(cli: Cli, req: TestBootRequest): Promise<FamilyImage> {
  const image = await familyImage(cli, req.imageId, req.family, await credentialsProject(cli), {
    fromState: true,
  });
  if (image === undefined) {
    throw new Error(
      `image ${req.imageId} is gone (a failed check deletes its upload), or is not this stack's any more ` +
        "(another project owns it, it carries another family's ID, or it is marked orphaned): nothing is " +
        "booted. `pulumi up --refresh` finds out, and uploads this build again when it is gone",
    );
  }
  return image;
}

/** The report of an image whose bytes passed before: nothing boots, the earlier verdict stands. */
export function earlierVerdict(req: TestBootRequest, verified: string): TestBootReport {
  return {
    host: "",
    port: 22,
    user: "nixos",
    ok: true,
    checks: [],
    imageId: req.imageId,
    serverId: "",
    hostKeyPinned: null,
    leftoversRemoved: null,
    timings: { serverActive: 0, checked: 0, cleanup: 0, total: 0 },
    alreadyVerified: verified,
  };
}

export async function recordPass(cli: Cli, report: TestBootReport): Promise<void> {
  const verdict = `${new Date().toISOString()}: ${report.checks.length} checks passed on server ${report.serverId}`;
  await cli.text(["image", "set", "--property", `${VERIFIED_PROPERTY}=${verdict}`, report.imageId]);
}

/** Deletes the build's uploads in every region: each only when it is this stack's and was never promoted. */
export async function discardUploads(req: TestBootRequest, log: (line: string) => void): Promise<void> {
  for (const upload of req.uploads) {
    const cli = openstackCli(upload.openstack);
    const where = upload.openstack.region ? ` in ${upload.openstack.region}` : "";
    try {
      const image = await familyImage(cli, upload.imageId, req.family, await credentialsProject(cli));
      if (image === undefined || image.promotedAt !== undefined) continue;
      await cli.text(["image", "delete", upload.imageId]);
      log(
        `deleted image ${upload.imageId}${where}: its build failed verification and never became a generation`,
      );
    } catch (error) {
      log(
        `could not delete image ${upload.imageId}${where}: ${(error as Error).message}; the next rotation tries again`,
      );
    }
  }
}
