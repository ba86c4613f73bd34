// The Automation API's `pulumi`, run inside the compute cloud's network namespace: the engine, the plugins,
// the test boot they start, its openstack CLI and the verifier all reach the guests there, and only there.
// pulumi-in-netns.sh says how the engine's events still reach the Automation API outside.
import { execa } from "execa";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { shellQuote } from "../../../components/shell.ts";

const IN_NETNS = fileURLToPath(new URL("./pulumi-in-netns.sh", import.meta.url));

export async function pulumiInNetns(netns: string): Promise<PulumiCommand> {
  const real = (await execa("sh", ["-c", "command -v pulumi"])).stdout.trim();
  const root = mkdtempSync(path.join(tmpdir(), "nci-pulumi-netns-"));
  mkdirSync(path.join(root, "bin"));
  const wrapper = path.join(root, "bin/pulumi");
  writeFileSync(
    wrapper,
    `#!/bin/sh\nNCI_NETNS=${shellQuote(netns)} NCI_PULUMI=${shellQuote(real)} exec ${shellQuote(IN_NETNS)} "$@"\n`,
  );
  chmodSync(wrapper, 0o755);
  return PulumiCommand.get({ root, skipVersionCheck: true });
}
