// Promotion of a new generation: only an upload Glance holds byte for byte (its SHA-512, os_hash_value, equals
// the one recorded when the file was built) is made visible. The provider checks only MD5, and only against
// what it sent. No local file is read: a machine that did not build the image can promote it.
import { removeMembers, visibilityArgs } from "./generations.ts";
import { imageField } from "./openstackCli.ts";
import type { Cli } from "./openstackCli.ts";
import { FAMILY_PROPERTY, PROMOTED_PROPERTY } from "./request.ts";
import type { PromoteRequest } from "./request.ts";

export async function promote(cli: Cli, req: PromoteRequest, log: (line: string) => void): Promise<void> {
  const image = await cli.json<Record<string, unknown>>(["image", "show", req.imageId]);
  if (imageField(image, FAMILY_PROPERTY) !== req.family) {
    throw new Error(
      `image ${req.imageId} does not carry this stack's family ID (${FAMILY_PROPERTY}=${req.family}): it is ` +
        "not promoted. Was the property changed by hand? `pulumi up --replace <the image's URN>` uploads anew.",
    );
  }
  const algo = imageField(image, "os_hash_algo");
  const value = imageField(image, "os_hash_value");
  if (algo !== "sha512" || value !== req.sha512) {
    throw new Error(
      `Glance's hash of image ${req.imageId} (${String(algo ?? "no algorithm")}: ` +
        `${String(value ?? "none")}) is not the SHA-512 recorded when the image was built (${req.sha512}): the ` +
        "upload is not the file built. The image stays private and hidden; the next `pulumi up` checks it " +
        "again, and `pulumi up --replace <the image's URN>` uploads it anew.",
    );
  }
  log(`image ${req.imageId}: Glance's SHA-512 matches the one recorded at build time`);
  if (image.visibility === "shared" && req.visibility !== "shared") {
    // Members stay on an image that stops being shared (dormant, Glance no longer lists them) and would be back
    // with the next "shared": remove them while they can still be seen.
    for (const member of await removeMembers(cli, req.imageId, [])) {
      log(`removed member ${member} from image ${req.imageId}: it is no longer shared`);
    }
  }
  // The first promotion makes it a generation, and its time orders the family; a later one keeps it.
  const promoted =
    imageField(image, PROMOTED_PROPERTY) === undefined
      ? ["--property", `${PROMOTED_PROPERTY}=${new Date().toISOString()}`]
      : [];
  await cli.text(["image", "set", ...visibilityArgs(req.visibility), "--unhidden", ...promoted, req.imageId]);
  log(`image ${req.imageId} is now ${req.visibility}`);
}
