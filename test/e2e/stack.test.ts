// The engine tier: the real Pulumi CLI, language host and plugins, a real nix-build of the fixture image,
// and a real Keystone + Glance on 127.0.0.1. Tests run in order and share one stack.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation/index.js";
import { Glance } from "./support/glance.ts";
import type { GlanceImage } from "./support/glance.ts";
import { LocalCloud } from "./support/localCloud.ts";
import { changed, fixtureStack, makeProject, plannedOps } from "./support/project.ts";
import type { Project } from "./support/project.ts";

const NS = "nixos-cloud-image";

function md5(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("md5");
    createReadStream(file)
      .on("data", (d) => hash.update(d))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });
}

describe("pulumi up / preview / destroy against a local Glance", function () {
  const cloud = new LocalCloud();
  let project: Project;
  let stack: Stack;
  let glance: Glance;
  let password: string;
  let first: { id: string; path: string };

  const set = (key: string, value: string) => stack.setConfig(`${NS}:${key}`, { value });
  const up = async () => {
    const events: EngineEvent[] = [];
    const result = await stack.up({
      onEvent: (e) => events.push(e),
      onOutput: (o) => process.stderr.write(o),
    });
    return { result, events };
  };
  const output = async (name: string) => (await stack.outputs())[name]?.value as string;
  const stackImages = async () => (await glance.images()).filter((i) => i.name.startsWith("nixos-"));

  before(async function () {
    this.timeout(300_000);
    const cloudsYaml = await cloud.start();
    glance = new Glance(cloudsYaml, cloud.glanceUrl);
    assert.deepEqual(await stackImages(), [], "a fresh Glance has no NixOS images");
    project = makeProject();
    ({ stack, password } = await fixtureStack(project, "e2e", cloudsYaml));
  });

  after(async function () {
    this.timeout(300_000);
    if (stack) await stack.destroy().catch(() => undefined);
    await cloud.stop();
    project?.remove();
  });

  it("pulumi up builds with nix-build and uploads an active image with the file's checksum and the properties", async () => {
    const { result, events } = await up();
    assert.equal(result.summary.result, "succeeded");
    // The one warning is upstream's: terraform-provider-openstack marks `use_octavia` deprecated and
    // warns about it for every provider, load balancers or not. Any other warning is ours to fix.
    const warnings = events.flatMap((e) =>
      e.diagnosticEvent?.severity === "warning" ? [e.diagnosticEvent.message] : [],
    );
    assert.ok(warnings.length > 0 && warnings.every((w) => /use_octavia/.test(w)), warnings.join("\n"));
    first = { id: await output("imageId"), path: await output("imagePath") };
    const image = await glance.image(first.id);
    assert.equal(image.status, "active");
    assert.equal(image.disk_format, "raw");
    assert.equal(image.container_format, "bare");
    assert.equal(image.checksum, await md5(first.path));
    assert.equal(image.min_disk, 1);
    assert.equal(image.visibility, "private");
    for (const [key, value] of Object.entries({
      os_distro: "nixos",
      os_admin_user: "nixos",
      os_type: "linux",
      hw_disk_bus: "virtio",
      architecture: "x86_64",
    })) {
      assert.equal(image[key], value, `Glance property ${key}`);
    }
    const info = JSON.parse(
      readFileSync(path.join(path.dirname(first.path), "nix-support/image-info.json"), "utf8"),
    );
    assert.equal(image.os_version, info.nixosRelease);
    assert.match(image.name, new RegExp(`^nixos-${info.nixosVersion.replace(/\./g, "\\.")}-[0-9a-z]{32}$`));
    // The build is a GC root while the stack holds it.
    assert.equal(readdirSync(path.join(project.dir, ".nixos-cloud-image/gcroots")).length, 1);
  });

  it("pulumi preview reports no changes and a second pulumi up does nothing", async () => {
    assert.deepEqual(changed(await plannedOps(stack)), {});
    const { result } = await up();
    assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
    assert.equal(await output("imageId"), first.id);
  });

  const edits: [string, () => Promise<void> | void, () => Promise<void> | void][] = [
    ["diskSize", () => set("diskSize", "1100"), () => set("diskSize", "1024")],
    ["kernelLatest", () => set("kernelLatest", "false"), () => stack.removeConfig(`${NS}:kernelLatest`)],
    [
      "a source file of the expression",
      () => writeFileSync(path.join(project.fixture, "default.nix"), "\n# an edit\n", { flag: "a" }),
      () => {
        const file = path.join(project.fixture, "default.nix");
        writeFileSync(file, readFileSync(file, "utf8").replace(/\n# an edit\n$/, ""));
      },
    ],
  ];
  for (const [what, change, undo] of edits) {
    it(`a change of ${what} makes pulumi preview replace the build and the image, and run the promotion and the rotation: nothing else`, async () => {
      await change();
      const ops = changed(await plannedOps(stack));
      await undo();
      // The promotion and the rotation run for the new image (in place); nothing else changes.
      assert.deepEqual(ops, {
        "nixos-build": "replace",
        "nixos-file": "replace",
        "nixos-image": "replace",
        "nixos-promote": "update",
        "nixos-generations": "update",
      });
      assert.deepEqual(changed(await plannedOps(stack)), {}, "undoing the change restores a no-op preview");
    });
  }

  it("pulumi up after a change creates the new generation and hides the old one, which stays bootable", async () => {
    await set("diskSize", "1100");
    const { events } = await up();
    const order = events
      .map((e) => e.resOutputsEvent?.metadata)
      .filter((m) => m?.urn.endsWith("::nixos-image"))
      .map((m) => m!.op);
    assert.deepEqual(order, ["create-replacement", "replace", "delete-replaced"]);
    const current = await output("imageId");
    assert.notEqual(current, first.id);
    assert.equal((await glance.image(current)).min_disk, 2);
    assert.deepEqual(
      (await stackImages()).map((i) => i.id),
      [current],
      "image lists show only the new generation",
    );
    const old = await glance.image(first.id);
    assert.deepEqual(
      [old.status, old.os_hidden],
      ["active", true],
      "the old generation is hidden, not deleted",
    );
    first = { id: current, path: await output("imagePath") };
  });

  it("a Nix expression that fails stops pulumi up with Nix's error and leaves Glance and the stack as they were", async () => {
    const broken = path.join(project.dir, "..", "broken.nix");
    writeFileSync(broken, '{ ... }: throw "fixture: broken on purpose"\n');
    await set("source", broken);
    try {
      await assert.rejects(up(), /error: fixture: broken on purpose/);
    } finally {
      await set("source", project.fixture);
    }
    assert.deepEqual(
      (await stackImages()).map((i) => i.id),
      [first.id],
    );
    assert.deepEqual(changed(await plannedOps(stack)), {});
  });

  it("Glance dying during the upload fails pulumi up clearly, and the next pulumi up converges with no stray images", async () => {
    await set("diskSize", "3072");
    // A new generation uploads hidden.
    const hiddenImages = async () =>
      (await glance.images({ hidden: true })).filter((i) => i.name.startsWith("nixos-"));
    const known = new Set((await hiddenImages()).map((i) => i.id));
    const running = up();
    running.catch(() => undefined);
    let uploading: GlanceImage | undefined;
    for (let i = 0; i < 600 && !uploading; i++) {
      await new Promise((r) => setTimeout(r, 100));
      uploading = (await hiddenImages()).find((img) => !known.has(img.id) && img.status === "saving");
    }
    assert.ok(uploading, "the upload was seen in progress");
    cloud.killGlance();
    const killedAt = Date.now();
    await assert.rejects(running, (err: Error) => {
      // The provider names the resource, the file and the failed connection.
      assert.match(err.message, /nixos-image/);
      assert.match(err.message, /Error while uploading file "\/nix\/store\/[^"]+\/nixos\.img"/);
      assert.match(err.message, /connection/i);
      return true;
    });
    await cloud.start();
    const { result } = await up();
    assert.equal(result.summary.result, "succeeded");
    const current = await output("imageId");
    // The killed upload looks like one under way (Glance leaves it "saving"): left alone while it is younger
    // than uploadTimeoutMinutes, it could be another run's.
    assert.notEqual((await glance.image(uploading.id)).status, "active");
    await set("uploadTimeoutMinutes", "1");
    await new Promise((r) => setTimeout(r, Math.max(0, killedAt + 61_000 - Date.now())));
    // Older than that, the next rotation deletes it (a keepGenerations change runs one; nothing uploads).
    await set("keepGenerations", "4");
    assert.equal((await up()).result.summary.result, "succeeded");
    await stack.removeConfig(`${NS}:keepGenerations`);
    await stack.removeConfig(`${NS}:uploadTimeoutMinutes`);
    const images = await stackImages();
    assert.deepEqual(
      images.map((i) => i.id),
      [current],
      `only the stack's image is left: ${JSON.stringify(images.map((i) => [i.id, i.status]))}`,
    );
    assert.equal(images[0].status, "active");
    await assert.rejects(glance.image(uploading.id), /404/);
    first = { id: current, path: await output("imagePath") };
  });

  it('diskSize "auto", UEFI and aarch64 reach Glance: min_disk from the size built, the firmware and architecture properties', async () => {
    await set("diskSize", "auto");
    await set("bootMode", "uefi");
    await up();
    let image = await glance.image(await output("imageId"));
    const info = JSON.parse(
      readFileSync(path.join(path.dirname(await output("imagePath")), "nix-support/image-info.json"), "utf8"),
    );
    assert.equal(image.min_disk, Math.ceil(info.diskSize / 1024));
    assert.deepEqual(
      [image.hw_firmware_type, image.hw_machine_type, image.architecture],
      ["uefi", "q35", "x86_64"],
    );
    await stack.removeConfig(`${NS}:bootMode`);
    await set("system", "aarch64-linux");
    await up();
    image = await glance.image(await output("imageId"));
    assert.deepEqual(
      [image.hw_firmware_type, image.hw_machine_type, image.architecture],
      ["uefi", undefined, "aarch64"],
    );
    await stack.removeConfig(`${NS}:system`);
    await set("diskSize", "1024");
    await up();
  });

  it("pulumi destroy leaves no image of the stack in Glance, no GC root, and no secret in plain text in the state", async () => {
    const { summary } = await stack.destroy();
    assert.equal(summary.result, "succeeded");
    assert.deepEqual(await stackImages(), []);
    assert.deepEqual(await glance.images({ hidden: true }), [], "no hidden generation is left either");
    assert.deepEqual(readdirSync(path.join(project.dir, ".nixos-cloud-image/gcroots")), []);
    const stateDir = new URL(project.backend).pathname;
    const stateFiles = readdirSync(stateDir, { recursive: true, withFileTypes: true }).filter((e) =>
      e.isFile(),
    );
    assert.ok(stateFiles.length > 0 && existsSync(stateDir));
    for (const file of stateFiles) {
      const text = readFileSync(path.join(file.parentPath, file.name), "utf8");
      assert.ok(!text.includes(password), `${file.name} holds the provider password in plain text`);
    }
  });
});
