import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "./args.ts";
import type { BuiltImage } from "./build.ts";
import type { RegionImage } from "./publish.ts";
import { shellQuote } from "./shell.ts";
import { projectPath } from "./source.ts";
import type { TestBootReport } from "../testboot/run.ts";
import type { TestBootRequest } from "../testboot/request.ts";

type Verify = NonNullable<ResolvedArgs["verify"]>;

/** The test boot's program (testboot/): run by the Commands below, never by the Pulumi program itself. */
export const TESTBOOT_BIN = "bin/nixos-image-testboot.js";

/** The stack's provider settings (`openstack:*`), without the prefix: the test boot uses the same cloud. */
export function providerSettings(): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith("openstack:")) settings[key.slice("openstack:".length)] = value;
  }
  return settings;
}

/** The provider settings for one region (undefined: the provider's own). */
export function regionSettings(region: string | undefined): Record<string, string> {
  const settings = providerSettings();
  return region === undefined ? settings : { ...settings, region };
}

/** Who a test boot belongs to, and the short tag that names (and finds) its resources in the cloud. */
export function testBootOwner(name: string): { owner: string; tag: string } {
  const owner = `${pulumi.getProject()}/${pulumi.getStack()}/${name}`;
  return { owner, tag: createHash("sha256").update(owner).digest("hex").slice(0, 12) };
}

/**
 * The test boot: one Command, replaced exactly when the image changes (so `pulumi preview` shows it will
 * run), that boots a server from the new image, runs the verifier, and deletes the server and everything made
 * for it before it ends (see testboot/). A failed check fails it, and `pulumi up` with it. A change of only
 * the settings runs `update`, which repeats the last report: the check runs again only for a new image.
 */
export function verifyImage(
  name: string,
  verify: Verify,
  build: BuiltImage,
  published: RegionImage,
  parent: pulumi.Resource,
) {
  const { image } = published;
  const { owner, tag } = testBootOwner(name);
  const request = pulumi.all([image.id, build.info]).apply(([imageId, info]) => {
    const doc: TestBootRequest = {
      owner,
      tag,
      imageId,
      flavorName: verify.flavorName,
      networkName: verify.networkName,
      sshSourceCidr: verify.sshSourceCidr,
      ...(verify.floatingIpPool === undefined ? {} : { floatingIpPool: verify.floatingIpPool }),
      timeout: verify.timeout,
      // Beyond SSH, sudo and root: the kernel is the one built, and /etc/nixos holds the shipped configuration.
      expectKernel: info.kernelVersion,
      expectFiles: ["/etc/nixos/configuration.nix"],
      openstack: regionSettings(published.region),
    };
    return JSON.stringify(doc);
  });
  const command = new local.Command(
    `${name}-verify`,
    {
      create: `exec node ${shellQuote(projectPath(TESTBOOT_BIN))} verify`,
      // The previous report, unchanged: new settings alone do not boot the image again.
      update: 'printf "%s" "$PULUMI_COMMAND_STDOUT"',
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
