// The Automation API's `pulumi`, run somewhere else than the test's own process sees: inside the compute
// cloud's network namespace, or with a Nix store of its own as on another machine.
import { execa } from "execa";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { shellQuote } from "../../../components/shell.ts";

const IN_NETNS = fileURLToPath(new URL("./pulumi-in-netns.sh", import.meta.url));

/** A PulumiCommand whose `pulumi` is a shell script: `body` runs with $NCI_PULUMI the real binary. */
async function wrappedPulumi(prefix: string, body: string): Promise<PulumiCommand> {
  const real = (await execa("sh", ["-c", "command -v pulumi"])).stdout.trim();
  const root = mkdtempSync(path.join(tmpdir(), prefix));
  mkdirSync(path.join(root, "bin"));
  const wrapper = path.join(root, "bin/pulumi");
  writeFileSync(wrapper, `#!/bin/sh\nNCI_PULUMI=${shellQuote(real)}; export NCI_PULUMI\n${body}\n`);
  chmodSync(wrapper, 0o755);
  return PulumiCommand.get({ root, skipVersionCheck: true });
}

/**
 * The engine, the plugins, the test boot they start, its openstack CLI and the verifier all reach the guests
 * in the namespace, and only there. pulumi-in-netns.sh says how the engine's events still reach the
 * Automation API outside.
 */
export function pulumiInNetns(netns: string): Promise<PulumiCommand> {
  return wrappedPulumi(
    "nci-pulumi-netns-",
    `NCI_NETNS=${shellQuote(netns)} exec ${shellQuote(IN_NETNS)} "$@"`,
  );
}

/**
 * As on another machine: the engine and every nix command of the program see `nixDir` as /nix (a mount
 * namespace binds it there), so what they build, substitute or miss is that store's, not this machine's.
 * The network stays the machine's, and exec keeps the process the Automation API signals.
 */
export function pulumiWithOwnStore(nixDir: string): Promise<PulumiCommand> {
  return wrappedPulumi(
    "nci-pulumi-store-",
    `exec unshare --mount --propagation private sh -c 'mount --bind "$0" /nix && exec "$NCI_PULUMI" "$@"' ${shellQuote(nixDir)} "$@"`,
  );
}
