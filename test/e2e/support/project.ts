// A throwaway copy of this project (sharing node_modules) with its own file backend, so the e2e tier never
// writes stack files or state into the checkout.
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import type { PulumiCommand } from "@pulumi/pulumi/automation/index.js";
import type { EngineEvent, OpType, Stack } from "@pulumi/pulumi/automation/index.js";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const PROGRAM = [
  "Pulumi.yaml",
  "package.json",
  "tsconfig.json",
  "index.ts",
  "components",
  "bin",
  "verifier",
  "stages",
  "nix",
];

export interface Project {
  dir: string;
  /** The copy's test/fixtures/image, which tests may edit. */
  fixture: string;
  backend: string;
  remove(): void;
}

export function makeProject(): Project {
  const dir = mkdtempSync(path.join(tmpdir(), "nci-e2e-"));
  for (const entry of PROGRAM)
    cpSync(path.join(ROOT, entry), path.join(dir, "project", entry), { recursive: true });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "project", "node_modules"));
  // At the same place as in the checkout: the fixture shares nix/args.nix and nix/pin.nix by relative path.
  cpSync(path.join(ROOT, "test/fixtures/image"), path.join(dir, "project/test/fixtures/image"), {
    recursive: true,
  });
  mkdirSync(path.join(dir, "state"));
  return {
    dir: path.join(dir, "project"),
    fixture: path.join(dir, "project/test/fixtures/image"),
    backend: `file://${path.join(dir, "state")}`,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export async function makeStack(
  project: Project,
  name: string,
  env: Record<string, string>,
  pulumiCommand?: PulumiCommand,
): Promise<Stack> {
  return LocalWorkspace.createOrSelectStack(
    { stackName: name, workDir: project.dir },
    {
      ...(pulumiCommand === undefined ? {} : { pulumiCommand }),
      envVars: {
        PULUMI_BACKEND_URL: project.backend,
        PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
        PULUMI_SKIP_UPDATE_CHECK: "1",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "1",
        ...env,
      },
    },
  );
}

/**
 * A stack of the project on the local cloud of `cloudsYaml` that builds the fixture image (1024 MiB), with the
 * provider's password as a secret config value: the state must never hold it in plain text.
 */
export async function fixtureStack(
  project: Project,
  name: string,
  cloudsYaml: string,
  { env = {}, pulumiCommand }: { env?: Record<string, string>; pulumiCommand?: PulumiCommand } = {},
): Promise<{ stack: Stack; password: string }> {
  const stack = await makeStack(project, name, { OS_CLIENT_CONFIG_FILE: cloudsYaml, ...env }, pulumiCommand);
  const password = readFileSync(cloudsYaml, "utf8").match(/password: *"?([^"\n]+)"?/)![1];
  await stack.setAllConfig({
    "openstack:cloud": { value: "local" },
    "openstack:password": { value: password, secret: true },
    "nixos-cloud-image:source": { value: project.fixture },
    "nixos-cloud-image:diskSize": { value: "1024" },
  });
  return { stack, password };
}

/** A replacement is planned as three steps; they all mean "replace". */
const REPLACE_STEPS: OpType[] = ["create-replacement", "replace", "delete-replaced"];

/**
 * The operation preview plans for each resource, by resource name (the last part of its URN). Fails when the
 * engine's events did not arrive (no summary event): an empty plan must mean nothing changes.
 */
export async function plannedOps(stack: Stack): Promise<Record<string, OpType>> {
  const ops: Record<string, OpType> = {};
  let summary = false;
  await stack.preview({
    onEvent: (event: EngineEvent) => {
      if (event.summaryEvent) summary = true;
      const meta = event.resourcePreEvent?.metadata;
      if (!meta || meta.type === "pulumi:pulumi:Stack") return;
      ops[meta.urn.split("::").pop()!] = REPLACE_STEPS.includes(meta.op) ? "replace" : meta.op;
    },
  });
  if (!summary) throw new Error("pulumi preview sent no summary event: its events did not reach the test");
  return ops;
}

/** The resources that are not "same" in a plan. */
export function changed(ops: Record<string, OpType>): Record<string, OpType> {
  return Object.fromEntries(Object.entries(ops).filter(([, op]) => op !== "same"));
}
