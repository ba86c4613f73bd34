// The Automation API's `pulumi`, run inside the compute cloud's network namespace: the engine, the plugins,
// the test boot they start, its openstack CLI and the verifier all reach the guests there, and only there.
import { execa } from "execa";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import { shellQuote } from "../../../components/shell.ts";

export async function pulumiInNetns(netns: string): Promise<PulumiCommand> {
  const real = (await execa("sh", ["-c", "command -v pulumi"])).stdout.trim();
  const root = mkdtempSync(path.join(tmpdir(), "nci-pulumi-netns-"));
  mkdirSync(path.join(root, "bin"));
  // exec all the way down, so the Automation API's SIGINT (an aborted operation) reaches pulumi itself.
  const wrapper = path.join(root, "bin/pulumi");
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${shellQuote(netns)} ${shellQuote(real)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return PulumiCommand.get({ root, skipVersionCheck: true });
}
