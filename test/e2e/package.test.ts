// The engine tier for the package (pulumi-package/): programs in YAML, Python and TypeScript use NixosImage
// through `pulumi package add` / `packages:`, with the real Pulumi CLI, language hosts and the package's own
// Node.js host, against the local Keystone + Glance, building the fixture image.
import assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { resolveArgs } from "../../components/resolve.ts";
import { Glance } from "./support/glance.ts";
import type { GlanceImage } from "./support/glance.ts";
import { LocalCloud } from "./support/localCloud.ts";
import { changed, makeProject, plannedOps } from "./support/project.ts";
import type { Project } from "./support/project.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

describe("the package from YAML, Python and TypeScript programs against a local Glance", function () {
  const cloud = new LocalCloud(1);
  let project: Project;
  let glance: Glance;
  let cloudsYaml: string;
  let password: string;
  const stacks: Stack[] = [];

  /** The images of the stacks in Glance, hidden generations included. */
  const nixosImages = async (): Promise<GlanceImage[]> =>
    [...(await glance.images()), ...(await glance.images({ hidden: true }))].filter((i) =>
      i.name.startsWith("nixos-"),
    );

  const env = () => ({
    PULUMI_BACKEND_URL: project.backend,
    PULUMI_CONFIG_PASSPHRASE: "e2e-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "1",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "1",
    OS_CLIENT_CONFIG_FILE: cloudsYaml,
  });

  /** The consumer program `kind`, at the same place in the project's copy as in the checkout. */
  const consumer = (kind: string) => path.join(project.dir, "test/fixtures/consumers", kind);

  /** `pulumi <args>` in a consumer's directory, as a user would type it. */
  const pulumi = (kind: string, args: string[]) =>
    execa("pulumi", args, { cwd: consumer(kind), env: env(), stderr: "inherit" });

  /** A stack of the consumer on the local cloud, building the fixture image. */
  async function consumerStack(kind: string): Promise<Stack> {
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: "e2e", workDir: consumer(kind) },
      { envVars: env() },
    );
    stacks.push(stack);
    const name = (await stack.workspace.projectSettings()).name;
    await stack.setAllConfig({
      "openstack:cloud": { value: "local" },
      "openstack:password": { value: password, secret: true },
      [`${name}:imageSource`]: { value: project.fixture },
    });
    return stack;
  }

  /** up, the image in Glance, a no-op preview, destroy: nothing of the stack is left. */
  async function publishAndRemove(stack: Stack, tag: string): Promise<void> {
    const result = await stack.up({ onOutput: (o) => process.stderr.write(o) });
    assert.equal(result.summary.result, "succeeded");
    const imageIds = result.outputs.imageIds.value as Record<string, string>;
    assert.deepEqual(Object.keys(imageIds), ["RegionOne"]);
    const image = await glance.image(imageIds.RegionOne);
    assert.equal(image.status, "active");
    assert.equal(image.name, result.outputs.imageName.value);
    assert.deepEqual(image.tags, [tag]);
    assert.equal(image.os_distro, "nixos");
    assert.match(result.outputs.nixosVersion.value as string, /^\d\d\.\d\d/);
    assert.deepEqual(changed(await plannedOps(stack)), {}, "a second preview changes nothing");
    const { summary } = await stack.destroy();
    assert.equal(summary.result, "succeeded");
    assert.deepEqual(await nixosImages(), [], "destroy leaves no image, hidden or not");
  }

  before(async function () {
    this.timeout(300_000);
    cloudsYaml = await cloud.start();
    password = readFileSync(cloudsYaml, "utf8").match(/password: *"?([^"\n]+)"?/)![1];
    glance = new Glance(cloudsYaml, cloud.glanceUrl);
    project = makeProject();
    // The package and the consumers at their places in the checkout: the consumers name the package by the
    // same relative path as in the README.
    cpSync(path.join(ROOT, "pulumi-package"), path.join(project.dir, "pulumi-package"), { recursive: true });
    cpSync(path.join(ROOT, "test/fixtures/consumers"), path.join(project.dir, "test/fixtures/consumers"), {
      recursive: true,
    });
    assert.deepEqual(await nixosImages(), [], "a fresh Glance has no NixOS images");
  });

  after(async function () {
    this.timeout(300_000);
    for (const stack of stacks) await stack.destroy().catch(() => undefined);
    await cloud.stop();
    project?.remove();
  });

  it("YAML: a bad value is refused before anything is created, with the key, the rule and the value", async () => {
    const stack = await consumerStack("yaml");
    await stack.setConfig("nixos-image-yaml:diskSize", { value: "100" });
    // The message the program's own stack config gets for the same value.
    const expected = (() => {
      try {
        resolveArgs({ diskSize: 100 });
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error("diskSize 100 passed validation");
    })();
    assert.match(expected, /^The "diskSize" setting must be .*; received 100\.$/);
    try {
      await assert.rejects(stack.preview(), (e: Error) => e.message.includes(expected));
    } finally {
      await stack.removeConfig("nixos-image-yaml:diskSize");
    }
    assert.deepEqual(await nixosImages(), []);
  });

  it("YAML: pulumi up publishes the fixture image, a preview then changes nothing, destroy removes it", async () => {
    await publishAndRemove(await consumerStack("yaml"), "yaml");
  });

  it("Python: the same through the SDK that pulumi package add generates, in the program's own virtualenv", async () => {
    // The program's virtualenv with `pulumi` from PyPI, then the package's SDK generated and installed in it.
    await pulumi("python", ["install"]);
    await pulumi("python", ["package", "add", "../../../../pulumi-package"]);
    assert.ok(existsSync(path.join(consumer("python"), "sdks/nixos-cloud-image")));
    await publishAndRemove(await consumerStack("python"), "python");
  });

  it('TypeScript: import { NixosImage } from "nixos-cloud-image" previews the image\'s build, upload and promotion', async () => {
    // The program's package.json names the generated SDK (sdks/nixos-cloud-image) "nixos-cloud-image";
    // `pulumi package add` generates it and installs the program's dependencies with it.
    await pulumi("typescript", ["package", "add", "../../../../pulumi-package"]);
    const stack = await consumerStack("typescript");
    const ops = await plannedOps(stack);
    for (const resource of ["nixos", "nixos-build", "nixos-image", "nixos-promote"])
      assert.equal(ops[resource], "create", `${resource} in ${JSON.stringify(ops)}`);
  });
});
