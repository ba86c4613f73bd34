// The image lifecycle on the real Pulumi engine and plugins against the real Keystone + two Glances of the
// local cloud: generations and rotation, the standard metadata as Glance stores it, sharing with the demo
// project (accepted through its own cloud), regions. Tests run in order and share one stack.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, readFileSync } from "node:fs";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { imageProperties } from "../../components/properties.ts";
import { Glance } from "./support/glance.ts";
import type { GlanceImage } from "./support/glance.ts";
import { LocalCloud } from "./support/localCloud.ts";
import { changed, fixtureStack, makeProject, plannedOps } from "./support/project.ts";
import type { Project } from "./support/project.ts";

const NS = "nixos-cloud-image";

async function sha512(file: string): Promise<string> {
  const hash = createHash("sha512");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

describe("image lifecycle against the local Keystone and its two Glances", function () {
  const cloud = new LocalCloud();
  let project: Project;
  let stack: Stack;
  let glance: Glance;
  let glance2: Glance;
  let demo: Glance;
  let demoProject: string;
  /** Generations by age, oldest first, as the stack published them. */
  const generations: string[] = [];

  const set = (key: string, value: string) => stack.setConfig(`${NS}:${key}`, { value });
  const unset = (key: string) => stack.removeConfig(`${NS}:${key}`);
  const up = () => stack.up({ onOutput: (o) => process.stderr.write(o) });
  const outputs = async () =>
    Object.fromEntries(Object.entries(await stack.outputs()).map(([k, v]) => [k, v.value]));
  /** The family's images in a Glance: visible ones, then hidden ones. */
  const family = async (g: Glance) => {
    const ours = (images: GlanceImage[]) =>
      images
        .filter((i) => String(i.nixos_cloud_image_family ?? "").startsWith(`${NS}/lifecycle/`))
        .map((i) => i.id);
    return { visible: ours(await g.images()), hidden: ours(await g.images({ hidden: true })) };
  };
  const build = async (diskSize: number) => {
    await set("diskSize", String(diskSize));
    const { summary } = await up();
    assert.equal(summary.result, "succeeded");
    generations.push((await outputs()).imageId);
  };

  before(async function () {
    this.timeout(300_000);
    const cloudsYaml = await cloud.start();
    glance = new Glance(cloudsYaml, cloud.glanceUrl);
    glance2 = new Glance(cloudsYaml, cloud.glance2Url);
    demo = new Glance(cloudsYaml, cloud.glanceUrl, "local-demo");
    demoProject = await demo.projectId();
    project = makeProject();
    ({ stack } = await fixtureStack(project, "lifecycle", cloudsYaml));
  });

  after(async function () {
    this.timeout(300_000);
    if (stack) await stack.destroy().catch(() => undefined);
    await cloud.stop();
    project?.remove();
  });

  /** Sets a setting; a list or map item by its path ("members[0]", "memberClouds.ID"), as `pulumi config set --path`. */
  const setPath = (key: string, value: string) =>
    stack.setConfig(`${NS}:${key}`, { value }, /[[.]/.test(key));
  const bad: [string, [string, string][], RegExp][] = [
    [
      "keepGenerations 0",
      [["keepGenerations", "0"]],
      /"nixos-cloud-image:keepGenerations" setting must be a whole number of generations from 1 to 100; received 0/,
    ],
    [
      "keepGenerations 2.5",
      [["keepGenerations", "2.5"]],
      /"nixos-cloud-image:keepGenerations" setting must be .*; received 2.5/,
    ],
    [
      "a malformed member",
      [["members[0]", "demo"]],
      /"nixos-cloud-image:members\[0\]" setting must be a Keystone project ID \(32 hex digits\); received "demo"/,
    ],
    [
      "a duplicate region",
      [
        ["regions[0]", "RegionOne"],
        ["regions[1]", "RegionOne"],
      ],
      /"nixos-cloud-image:regions\[1\]" setting must be .*each listed once; received "RegionOne"/,
    ],
    [
      "an unknown region",
      [
        ["regions[0]", "RegionOne"],
        ["regions[1]", "RegionNine"],
      ],
      /"regions\[1\]" setting must be a region of the cloud with an image service \(Glance\); received "RegionNine"\. The cloud answered: .*/,
    ],
    [
      "a property that collides with a standard one",
      [["properties.os_distro", "debian"]],
      /"nixos-cloud-image:properties.os_distro" setting must be a key the component does not set itself/,
    ],
    [
      "retainOldImages (removed)",
      [["retainOldImages", "true"]],
      /"nixos-cloud-image:retainOldImages" setting must be removed: keepGenerations \(default 3\) replaces it/,
    ],
  ];
  for (const [what, settings, message] of bad) {
    it(`${what} fails pulumi preview and up naming the key, the rule and the value, with nothing created`, async () => {
      for (const [key, value] of settings) await setPath(key, value);
      try {
        await assert.rejects(plannedOps(stack), message);
        await assert.rejects(up(), message);
      } finally {
        for (const key of new Set(settings.map(([k]) => k.split(/[[.]/)[0]))) await unset(key);
      }
      assert.deepEqual(await family(glance), { visible: [], hidden: [] });
      const resources = (await stack.exportStack()).deployment.resources ?? [];
      assert.deepEqual(
        // The stack and the default provider (the region check's invokes use it) are no cloud resources.
        resources
          .map((r: { type: string }) => r.type)
          .filter((t: string) => t !== "pulumi:pulumi:Stack" && !t.startsWith("pulumi:providers:")),
        [],
      );
    });
  }

  it("after three builds the newest is visible, the two before it hidden; a fourth build deletes the oldest", async () => {
    for (const size of [1024, 1100, 1200]) await build(size);
    const [g1, g2, g3] = generations;
    assert.deepEqual(await family(glance), { visible: [g3], hidden: [g2, g1] });
    for (const id of [g1, g2])
      assert.equal((await glance.image(id)).status, "active", "hidden, still bootable");
    // What rotation will do shows in preview: the rotation Command runs with the new build.
    await set("diskSize", "1300");
    const ops = changed(await plannedOps(stack));
    assert.deepEqual(ops, {
      "nixos-build": "replace",
      "nixos-image": "replace",
      "nixos-promote": "replace",
      "nixos-generations": "update",
    });
    await build(1300);
    assert.deepEqual(await family(glance), { visible: [generations[3]], hidden: [g3, g2] });
    await assert.rejects(glance.image(g1), /404/);
    assert.deepEqual(changed(await plannedOps(stack)), {}, "nothing changed, nothing planned");
  });

  it("every standard property is in Glance as computed, and Glance's SHA-512 is the built file's", async () => {
    const { imageId, imagePath } = await outputs();
    const image = await glance.image(imageId);
    const info = JSON.parse(
      readFileSync(path.join(path.dirname(imagePath), "nix-support/image-info.json"), "utf8"),
    );
    assert.match(String(image.image_build_date), /^\d{4}-\d\d-\d\d \d\d:\d\d$/);
    const expected = imageProperties(
      info,
      {
        builtAt: String(image.image_build_date),
        family: `${NS}/lifecycle/nixos`,
        source: info.channel,
        replaceFrequency: "never",
        keepGenerations: 3,
      },
      {},
    );
    for (const [key, value] of Object.entries(expected))
      assert.equal(image[key], value, `Glance property ${key}`);
    assert.equal(image.uuid_validity, "last-3");
    assert.deepEqual([image.os_hash_algo, image.os_hash_value], ["sha512", await sha512(imagePath)]);
    assert.deepEqual([image.visibility, image.os_hidden], ["private", false]);
  });

  it("changing a standard property shows as a new generation in preview, and Glance then holds the new value", async () => {
    await set("replaceFrequency", "weekly");
    const ops = changed(await plannedOps(stack));
    assert.equal(ops["nixos-image"], "replace");
    assert.equal(ops["nixos-build"], undefined, "the build stays");
    const { summary } = await up();
    assert.equal(summary.result, "succeeded");
    const { imageId } = await outputs();
    generations.push(imageId);
    assert.equal((await glance.image(imageId)).replace_frequency, "weekly");
    assert.deepEqual((await family(glance)).visible, [imageId]);
  });

  it("keepGenerations 1: preview shows the rotation, and up leaves only the newest", async () => {
    await set("keepGenerations", "1");
    const ops = changed(await plannedOps(stack));
    assert.equal(ops["nixos-generations"], "update");
    await up();
    const { imageId } = await outputs();
    generations.push(imageId);
    assert.deepEqual(await family(glance), { visible: [imageId], hidden: [] });
    assert.equal((await glance.image(imageId)).uuid_validity, "last-1");
    await set("keepGenerations", "2");
  });

  it("members: the demo project gets the new generation (accepted through its own cloud), a removed member loses every one", async () => {
    await setPath("members[0]", demoProject);
    await setPath(`memberClouds.${demoProject}`, "local-demo");
    await build(1400);
    const shared = generations.at(-1)!;
    assert.equal((await glance.image(shared)).visibility, "shared");
    assert.deepEqual(await glance.members(shared), { [demoProject]: "accepted" });
    assert.ok(
      (await demo.images()).some((i) => i.id === shared),
      "the demo project lists it",
    );
    assert.deepEqual(changed(await plannedOps(stack)), {});
    // Without the member's cloud the share stays pending; the older generation keeps its share.
    await unset("memberClouds");
    await build(1500);
    const next = generations.at(-1)!;
    assert.deepEqual(await glance.members(next), { [demoProject]: "pending" });
    assert.deepEqual(await glance.members(shared), { [demoProject]: "accepted" });
    await unset("members");
    assert.equal(changed(await plannedOps(stack))["nixos-generations"], "update");
    await up();
    // The newest is private again, the older one still shared: neither keeps the member (made shared
    // again by hand, the newest shows none).
    assert.equal((await glance.image(next)).visibility, "private");
    await glance.setVisibility(next, "shared");
    for (const id of [next, shared])
      assert.deepEqual(await glance.members(id), {}, `no member left on ${id}`);
    await glance.setVisibility(next, "private");
    assert.ok(!(await demo.images()).some((i) => i.id === next || i.id === shared));
    for (const id of [next, shared])
      await assert.rejects(demo.image(id), /404/, "the demo project cannot reach it");
  });

  it("regions: one build goes to RegionOne and RegionTwo, each Glance holds it, imageIds maps both", async () => {
    const before = await family(glance);
    await setPath("regions[0]", "RegionOne");
    await setPath("regions[1]", "RegionTwo");
    const started = Date.now();
    const { summary } = await up();
    process.stderr.write(`two-region publish: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    assert.equal(summary.result, "succeeded");
    const { imageIds, imageId, imagePath } = await outputs();
    assert.deepEqual(Object.keys(imageIds).sort(), ["RegionOne", "RegionTwo"]);
    assert.equal(imageId, imageIds.RegionOne);
    const hash = await sha512(imagePath);
    for (const [g, region] of [
      [glance, "RegionOne"],
      [glance2, "RegionTwo"],
    ] as const) {
      const image = await g.image(imageIds[region]);
      assert.deepEqual([image.status, image.os_hash_value], ["active", hash], region);
      assert.equal(image.nixos_cloud_image_family, `${NS}/lifecycle/nixos@${region}`);
      assert.deepEqual(
        (await family(g)).visible,
        [imageIds[region]],
        `${region} shows only the new generation`,
      );
    }
    await assert.rejects(glance2.image(imageIds.RegionOne), /404/, "each region has its own image");
    // The provider's own region's family went with its resources: no generation of it is left.
    for (const id of [...before.visible, ...before.hidden]) await assert.rejects(glance.image(id), /404/);
    assert.deepEqual(changed(await plannedOps(stack)), {});
  });

  it("pulumi destroy removes every generation in every region", async () => {
    const { summary } = await stack.destroy();
    assert.equal(summary.result, "succeeded");
    for (const g of [glance, glance2]) assert.deepEqual(await family(g), { visible: [], hidden: [] });
  });
});
