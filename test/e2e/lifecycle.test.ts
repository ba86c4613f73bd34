// The image lifecycle on the real Pulumi engine and plugins against the real Keystone + two Glances of the
// local cloud: generations and rotation, what rotation must never touch, metadata changed in place, sharing
// with the demo project (accepted through its own cloud), regions, the family's end. Tests run in order and
// share one stack; each counts the images and asserts exactly which went.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { appendFileSync, createReadStream, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { execa } from "execa";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { imageProperties } from "../../components/properties.ts";
import { Glance } from "./support/glance.ts";
import type { GlanceImage } from "./support/glance.ts";
import { LocalCloud } from "./support/localCloud.ts";
import { changed, fixtureStack, makeProject, plannedOps } from "./support/project.ts";
import type { Project } from "./support/project.ts";

const NS = "nixos-cloud-image";
const FAMILY = "nixos_cloud_image_family";

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
  let familyId: string;
  let cloudsYaml: string;
  /** Generations by age, oldest first, as the stack published them. */
  const generations: string[] = [];

  const set = (key: string, value: string) => stack.setConfig(`${NS}:${key}`, { value });
  const unset = (key: string) => stack.removeConfig(`${NS}:${key}`);
  const up = () => stack.up({ onOutput: (o) => process.stderr.write(o) });
  const outputs = async (s = stack) =>
    Object.fromEntries(Object.entries(await s.outputs()).map(([k, v]) => [k, v.value]));
  /** A family's images in a Glance: visible ones, then hidden ones (newest first, as Glance lists them). */
  const family = async (g: Glance, id = familyId) => {
    const ours = (images: GlanceImage[]) => images.filter((i) => i[FAMILY] === id).map((i) => i.id);
    return { visible: ours(await g.images()), hidden: ours(await g.images({ hidden: true })) };
  };
  /** Every image ID in a Glance, visible and hidden. */
  const everything = async (g: Glance) =>
    [...(await g.images()), ...(await g.images({ hidden: true }))].map((i) => i.id).sort();
  const build = async (diskSize: number) => {
    await set("diskSize", String(diskSize));
    const { summary } = await up();
    assert.equal(summary.result, "succeeded");
    generations.push((await outputs()).imageId);
  };
  /** Uploads Glance received (PUT .../file), from its access log. */
  const uploads = () => cloud.uploadSeconds().size;

  before(async function () {
    this.timeout(300_000);
    cloudsYaml = await cloud.start();
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
      "minRamMb 32",
      [["minRamMb", "32"]],
      /"nixos-cloud-image:minRamMb" setting must be a whole number of MiB from 64 to 4194304; received 32/,
    ],
    [
      "a malformed member",
      [["members[0]", "demo"]],
      /"nixos-cloud-image:members\[0\]" setting must be a Keystone project ID \(32 hex digits\); received "demo"/,
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
      [["properties.nixos_cloud_image_promoted", "yes"]],
      /"nixos-cloud-image:properties.nixos_cloud_image_promoted" setting must be a key the component does not set itself/,
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
      assert.deepEqual(await everything(glance), []);
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

  it("after three builds the newest is visible, the two before it hidden; rotationPlan names what a fourth deletes, and it does", async () => {
    for (const size of [1024, 1100, 1200]) await build(size);
    const [g1, g2, g3] = generations;
    familyId = String((await glance.image(g3))[FAMILY]);
    assert.match(familyId, /^nci-[0-9a-f-]{36}$/, "a random family ID, not the stack's names");
    assert.deepEqual(await family(glance), { visible: [g3], hidden: [g2, g1] });
    for (const id of [g1, g2])
      assert.equal((await glance.image(id)).status, "active", "hidden, still bootable");
    const plan = (await outputs()).rotationPlan;
    assert.deepEqual(Object.values(plan), [{ hide: [g3], delete: [g1] }]);
    await set("diskSize", "1300");
    assert.deepEqual(changed(await plannedOps(stack)), {
      "nixos-build": "replace",
      "nixos-file": "replace",
      "nixos-image": "replace",
      "nixos-promote": "update",
      "nixos-generations": "update",
    });
    await build(1300);
    assert.deepEqual(await family(glance), { visible: [generations[3]], hidden: [g3, g2] });
    await assert.rejects(glance.image(g1), /404/);
    assert.deepEqual(changed(await plannedOps(stack)), {}, "nothing changed, nothing planned");
  });

  it("every standard and SCS property is in Glance as computed, with min_ram, and Glance's SHA-512 is the built file's", async () => {
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
        family: familyId,
        source: info.channel,
        replaceFrequency: "never",
        keepGenerations: 3,
      },
      {},
    );
    for (const [key, value] of Object.entries(expected))
      assert.equal(image[key], value, `Glance property ${key}`);
    assert.deepEqual([image.uuid_validity, image.provided_until, image.min_ram], ["last-3", "none", 512]);
    assert.match(String(image.nixos_cloud_image_promoted), /^\d{4}-\d\d-\d\dT/);
    assert.deepEqual([image.os_hash_algo, image.os_hash_value], ["sha512", await sha512(imagePath)]);
    assert.deepEqual([image.visibility, image.os_hidden], ["private", false]);
  });

  it("keepGenerations, replaceFrequency, minRamMb and a property change in place: no upload, no new image, Glance holds the new values", async () => {
    const before = { ids: await everything(glance), puts: uploads(), imageId: (await outputs()).imageId };
    await set("replaceFrequency", "weekly");
    await set("minRamMb", "640");
    await setPath("properties.team", "platform");
    const ops = changed(await plannedOps(stack));
    assert.deepEqual(ops, { "nixos-promote": "update" }, "only the promotion sets them, in place");
    assert.equal((await up()).summary.result, "succeeded");
    let image = await glance.image(before.imageId);
    assert.deepEqual([image.replace_frequency, image.min_ram, image.team], ["weekly", 640, "platform"]);
    await set("keepGenerations", "2");
    assert.deepEqual(changed(await plannedOps(stack)), {
      "nixos-promote": "update",
      "nixos-generations": "update",
    });
    assert.equal((await up()).summary.result, "succeeded");
    image = await glance.image(before.imageId);
    assert.equal(image.uuid_validity, "last-2");
    const [, , g3] = generations;
    // keep 2: the oldest of the three kept generations goes; nothing was uploaded.
    assert.deepEqual(await family(glance), { visible: [before.imageId], hidden: [g3] });
    assert.equal(uploads(), before.puts, "no upload");
    assert.equal((await outputs()).imageId, before.imageId);
  });

  it("a comment edit rebuilds the same store path: no upload, no new generation; a property dropped with it is removed", async () => {
    const before = { ids: await everything(glance), puts: uploads(), imageId: (await outputs()).imageId };
    assert.equal((await glance.image(before.imageId)).team, "platform");
    appendFileSync(
      path.join(project.fixture, "default.nix"),
      "# a comment changes the build identity only\n",
    );
    await unset("properties");
    assert.equal(changed(await plannedOps(stack))["nixos-build"], "replace", "preview cannot know the path");
    assert.equal((await up()).summary.result, "succeeded");
    assert.deepEqual(await everything(glance), before.ids);
    assert.equal(uploads(), before.puts, "no upload");
    assert.equal((await outputs()).imageId, before.imageId);
    assert.equal((await glance.image(before.imageId)).team, undefined, "a dropped property is removed");
  });

  it("never touches what is not its own: a stack named alike on another backend, another run's upload, a deactivated image", async () => {
    // A second copy of the project with its own backend and the same stack name, on the same admin credentials.
    const other = makeProject();
    try {
      const { stack: twin } = await fixtureStack(other, "lifecycle", cloudsYaml);
      await twin.setConfig(`${NS}:keepGenerations`, { value: "1" });
      assert.equal((await twin.up()).summary.result, "succeeded");
      const twinImage = (await outputs(twin)).imageId as string;
      const twinFamily = String((await glance.image(twinImage))[FAMILY]);
      assert.notEqual(twinFamily, familyId, "two stacks named alike are two families");
      // Another run's upload under way, and an image an admin deactivated, both carrying our family ID.
      const queued = await glance.createWith("another-run-upload", { [FAMILY]: familyId });
      const deactivated = await glance.createWith("deactivated-generation", {
        [FAMILY]: familyId,
        nixos_cloud_image_promoted: "2026-01-01T00:00:00.000Z",
      });
      await glance.upload(deactivated);
      await glance.deactivate(deactivated);
      const before = await everything(glance);
      await set("keepGenerations", "1");
      await build(1400);
      const after = await everything(glance);
      const [, , g3, g4] = generations;
      assert.deepEqual(
        before.filter((id) => !after.includes(id)).sort(),
        [g3, g4].sort(),
        "exactly the stack's own older generations went",
      );
      for (const id of [queued, deactivated, twinImage]) assert.ok(after.includes(id), `${id} untouched`);
      assert.equal((await glance.image(deactivated)).status, "deactivated");
      // The twin's end deletes its own family only.
      assert.equal((await twin.destroy()).summary.result, "succeeded");
      await assert.rejects(glance.image(twinImage), /404/);
      assert.deepEqual(
        await everything(glance),
        after.filter((id) => id !== twinImage),
      );
      for (const id of [queued, deactivated]) await glance.remove(id);
    } finally {
      other.remove();
    }
  });

  it("replacing the rotation Command, and renaming the component with an alias, delete nothing", async () => {
    const before = await everything(glance);
    const urn = (await stack.exportStack()).deployment.resources.find((r: { urn: string }) =>
      r.urn.endsWith("::nixos-generations"),
    ).urn;
    assert.equal((await stack.up({ target: [urn], replace: [urn] })).summary.result, "succeeded");
    assert.deepEqual(await everything(glance), before, "a replaced rotation deletes nothing");
    const index = path.join(project.dir, "index.ts");
    const program = readFileSync(index, "utf8");
    const rename = (from: string, to: string) =>
      writeFileSync(
        index,
        program.replace(
          'new NixosImage("nixos", args)',
          `new NixosImage("${to}", args, { aliases: [{ name: "${from}" }] })`,
        ),
      );
    try {
      // There and back: the aliases carry every stage over, so nothing runs, nothing is replaced or deleted.
      for (const [from, to] of [
        ["nixos", "base"],
        ["base", "nixos"],
      ]) {
        rename(from, to);
        assert.deepEqual(changed(await plannedOps(stack)), {}, `renaming ${from} to ${to} plans nothing`);
        assert.equal((await up()).summary.result, "succeeded");
        assert.deepEqual(await everything(glance), before, `renaming ${from} to ${to} deletes nothing`);
      }
    } finally {
      writeFileSync(index, program);
    }
    assert.deepEqual(changed(await plannedOps(stack)), {});
  });

  it("visibility reaches every kept generation, and promotion needs no built file on this machine", async () => {
    await set("keepGenerations", "2");
    await build(1500);
    const [newest, older] = [generations.at(-1)!, generations.at(-2)!];
    const { imagePath } = await outputs();
    // The built file leaves this machine's store: promotion compares Glance's hash with the recorded one.
    for (const link of await gcRoots()) rmSync(link);
    await execa("nix-store", ["--delete", path.dirname(imagePath)]);
    await set("visibility", "public");
    assert.equal((await up()).summary.result, "succeeded");
    for (const id of [newest, older]) assert.equal((await glance.image(id)).visibility, "public", id);
    await set("visibility", "private");
    assert.equal((await up()).summary.result, "succeeded");
    for (const id of [newest, older]) {
      const image = await glance.image(id);
      assert.equal(image.visibility, "private", id);
      assert.equal(image.nixos_cloud_image_exposed, "public", "it was public once: remembered");
    }
    await unset("visibility");
  });

  it("a delete Glance refuses is reported with Glance's reason, and up succeeds", async () => {
    const [older, newer] = generations.slice(-2);
    // The local cloud's Glance policy refuses to delete an image with this property (scripts/localcloud).
    await glance.setProperty(older, "nci_refuse_delete", "yes");
    const before = await everything(glance);
    await set("keepGenerations", "1");
    await set("diskSize", "1550");
    const { summary, stdout } = await up();
    assert.equal(summary.result, "succeeded");
    generations.push((await outputs()).imageId);
    assert.match(
      stdout,
      new RegExp(
        `kept ${older} \\(.*\\): beyond the newest 1, but Glance refused the delete: .*(403|Forbidden|not authorized)`,
        "i",
      ),
    );
    const after = await everything(glance);
    assert.deepEqual(
      before.filter((id) => !after.includes(id)),
      [newer],
      "the other one beyond keep 1 went",
    );
    assert.equal((await glance.image(older)).os_hidden, true, "kept, hidden");
    await glance.setProperty(older, "nci_refuse_delete", undefined);
    await set("keepGenerations", "2");
  });

  /** The build's GC roots in the project copy (its out-links). */
  async function gcRoots(): Promise<string[]> {
    const dir = path.join(project.dir, ".nixos-cloud-image/gcroots");
    const { stdout } = await execa("find", [dir, "-type", "l"], { reject: false });
    return stdout
      .split("\n")
      .filter(Boolean)
      .filter((l) => readlinkSync(l).startsWith("/nix/store/"));
  }

  it("members: the demo project gets the new generation (accepted through its own cloud), a removed member loses every one", async () => {
    await setPath("members[0]", demoProject);
    await setPath(`memberClouds.${demoProject}`, "local-demo");
    await build(1600);
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
    await build(1700);
    const next = generations.at(-1)!;
    assert.deepEqual(await glance.members(next), { [demoProject]: "pending" });
    assert.deepEqual(await glance.members(shared), { [demoProject]: "accepted" });
    await unset("members");
    assert.equal(changed(await plannedOps(stack))["nixos-generations"], "update");
    await up();
    // Both are private again (visibility reaches every kept generation), and neither keeps the member.
    for (const id of [next, shared]) assert.equal((await glance.image(id)).visibility, "private", id);
    for (const id of [next, shared]) {
      await glance.setVisibility(id, "shared");
      assert.deepEqual(await glance.members(id), {}, `no member left on ${id}`);
      await glance.setVisibility(id, "private");
    }
    for (const id of [next, shared])
      await assert.rejects(demo.image(id), /404/, "the demo project cannot reach it");
  });

  it("regions: a list naming the provider's region keeps its family (no upload there), RegionTwo is a family of its own; dropping a region ends its family", async () => {
    const before = { ...(await family(glance)), puts: uploads(), imageId: (await outputs()).imageId };
    await setPath("regions[0]", "RegionOne");
    await setPath("regions[1]", "RegionTwo");
    const ops = changed(await plannedOps(stack));
    assert.deepEqual(
      Object.entries(ops).filter(([, op]) => op !== "create" && op !== "update"),
      [],
      `the provider's region's resources are renamed, not replaced or deleted: ${JSON.stringify(ops)}`,
    );
    const started = Date.now();
    const { summary } = await up();
    process.stderr.write(`two-region publish: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    assert.equal(summary.result, "succeeded");
    const { imageIds, imageId, imagePath } = await outputs();
    assert.deepEqual(Object.keys(imageIds).sort(), ["RegionOne", "RegionTwo"]);
    assert.equal(imageId, imageIds.RegionOne);
    // RegionOne: the same family, its generations all kept, nothing uploaded.
    assert.equal(imageIds.RegionOne, before.imageId);
    assert.equal(uploads(), before.puts, "no upload to RegionOne");
    assert.deepEqual(await family(glance), { visible: before.visible, hidden: before.hidden });
    const image = await glance2.image(imageIds.RegionTwo);
    assert.deepEqual([image.status, image.os_hash_value], ["active", await sha512(imagePath)]);
    assert.match(String(image[FAMILY]), /^nci-/);
    assert.notEqual(image[FAMILY], familyId, "RegionTwo is a family of its own");
    assert.deepEqual((await family(glance2, String(image[FAMILY]))).visible, [imageIds.RegionTwo]);
    await assert.rejects(glance2.image(imageIds.RegionOne), /404/, "each region has its own image");
    assert.deepEqual(changed(await plannedOps(stack)), {});

    // Dropping RegionOne on purpose ends its family: every generation there goes; RegionTwo's stays.
    await unset("regions");
    await setPath("regions[0]", "RegionTwo");
    assert.equal((await up()).summary.result, "succeeded");
    for (const id of [...before.visible, ...before.hidden]) await assert.rejects(glance.image(id), /404/);
    assert.deepEqual(await everything(glance), []);
    assert.deepEqual(await everything(glance2), [imageIds.RegionTwo]);
    assert.equal((await outputs()).imageId, imageIds.RegionTwo);
  });

  it("pulumi destroy deletes every generation in every region, and marks and lists one it must keep", async () => {
    const { imageIds } = await outputs();
    const kept = imageIds.RegionTwo as string;
    await glance2.protect(kept, true);
    try {
      const { summary, stdout } = await stack.destroy();
      assert.equal(summary.result, "succeeded");
      assert.match(
        stdout,
        new RegExp(`left ${kept} .* marked nixos_cloud_image_orphaned=\\d{4}-\\d\\d-\\d\\d: it is protected`),
      );
      const image = await glance2.image(kept);
      assert.match(String(image.nixos_cloud_image_orphaned), /^\d{4}-\d\d-\d\d$/);
      assert.deepEqual(await everything(glance2), [kept]);
      assert.deepEqual(await everything(glance), []);
    } finally {
      await glance2.protect(kept, false);
      await glance2.remove(kept);
    }
  });
});
