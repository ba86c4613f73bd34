import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "../../components/settings.ts";
import type { BuiltImage } from "../../components/build.ts";
import type { RegionImage } from "../../components/publish.ts";
import { programCommand, regionSettings } from "../program/command.ts";
import type { TestBootReport } from "./run.ts";
import type { TestBootRequest } from "../program/request.ts";

type Verify = NonNullable<ResolvedArgs["verify"]>;

/** The short tag that names (and finds) a family's test boot resources in the cloud: a hash of its random ID. */
export function testBootTag(familyId: string): string {
  return createHash("sha256").update(familyId).digest("hex").slice(0, 12);
}

/**
 * The test boot: one Command, replaced exactly when the image changes (so `pulumi preview` shows it will
 * run), that boots a server from the new image (in the first region), runs the verifier, and deletes the server
 * and everything made for it before it ends (see testboot/). A failed check fails it, and `pulumi up` with it,
 * and deletes the build's uploads in every region (never promoted, they are no generations). Bytes that passed
 * before (a rebuild of the same store path) are not booted again. A change of only the settings runs
 * `update`, which repeats the last report.
 */
export function verifyImage(
  name: string,
  verify: Verify,
  build: BuiltImage,
  published: RegionImage[],
  parent: pulumi.Resource,
) {
  const [{ image, family, region }] = published;
  const uploads = pulumi.all(published.map((p) => p.image.id));
  const request = pulumi
    .all([image.id, build.info, family.id, uploads])
    .apply(([imageId, info, familyId, ids]) => {
      const doc: TestBootRequest = {
        owner: `${pulumi.getProject()}/${pulumi.getStack()}/${name}`,
        tag: testBootTag(familyId),
        family: familyId,
        imageId,
        uploads: ids.map((id, i) => ({ imageId: id, openstack: regionSettings(published[i].region) })),
        flavorName: verify.flavorName,
        networkName: verify.networkName,
        sshSourceCidr: verify.sshSourceCidr,
        ...(verify.floatingIpPool === undefined ? {} : { floatingIpPool: verify.floatingIpPool }),
        ...(verify.sshProxyJump === undefined ? {} : { sshProxyJump: verify.sshProxyJump }),
        ...(verify.sshJumpConfig === undefined ? {} : { sshJumpConfig: verify.sshJumpConfig }),
        timeout: verify.timeout,
        configDrive: verify.configDrive,
        requireHostKeyPin: verify.requireHostKeyPin,
        // Beyond SSH, sudo and root: the kernel is the one built, and /etc/nixos holds the shipped configuration.
        expectKernel: info.kernelVersion,
        expectFiles: ["/etc/nixos/configuration.nix"],
        openstack: regionSettings(region),
      };
      return JSON.stringify(doc);
    });
  const command = new local.Command(
    `${name}-verify`,
    {
      create: programCommand("verify"),
      // The previous report, unchanged: new settings alone do not boot the image again. Without one (the
      // last run failed) the check runs: the program says what to do when the image is gone.
      update: `[ -n "$PULUMI_COMMAND_STDOUT" ] && printf "%s" "$PULUMI_COMMAND_STDOUT" || ${programCommand("verify")}`,
      // The provider's password is in here: a secret, so it is encrypted in the state and never printed.
      stdin: pulumi.secret(request),
      // The image ID is unknown in a preview that rebuilds, and the command provider then plans no change;
      // the build identity is known, so `pulumi preview` shows the replacement (the check that will run).
      triggers: [build.identity, image.id],
      logging: "stderr",
      // Only `update` reads it (the report, a few KiB).
      addPreviousOutputInEnv: true,
    },
    {
      parent,
      dependsOn: [image],
      // Boot and checks get `timeout`; sweeping, creating and deleting the resources get the rest.
      customTimeouts: { create: `${verify.timeout + 900}s` },
    },
  );
  // The command provider makes every output secret when an input is (stdin is); the report holds no secret.
  const report = pulumi.unsecret(command.stdout).apply((s) => JSON.parse(s) as VerificationReport);
  return { command, report };
}

/** The `verification` stack output: the verifier's checks, the server it ran on, timings. */
export type VerificationReport = TestBootReport;
