// Rotation's decisions and the family's end, against an in-memory Glance + Nova behind the Cli interface (unit
// tier); the real Glance runs them in test/e2e/lifecycle.test.ts.
import assert from "node:assert/strict";
import { removeFamily, rotate } from "../../../stages/generations/run.ts";
import type { GenerationsRequest } from "../../../stages/program/request.ts";
import { FAMILY, fakeCloud, image, minutesAgo } from "../../support/fakeGlance.ts";
import type { FakeImage } from "../../support/fakeGlance.ts";

/** Generation n of the family: promoted, created and promoted on day n. */
const gen = (n: number, extra: Partial<FakeImage> = {}) =>
  image(`g${n}`, `2026-11-0${n}T00:00:00Z`, { promoted: `2026-11-0${n}T01:00:00Z`, ...extra });
/** Five generations, g5 the newest (visible, as promotion left it). */
const five = () => [gen(1), gen(2), gen(3), gen(4, { hidden: false }), gen(5, { hidden: false })];
const request: GenerationsRequest = {
  family: FAMILY,
  imageId: "g5",
  keep: 3,
  visibility: "private",
  members: [],
  uploadTimeoutMinutes: 60,
  openstack: {},
};
const quiet = () => undefined;

describe("rotation of generations", () => {
  it("keeps the newest visible, hides the next keep - 1, deletes the rest, and says what the next build does", async () => {
    const cloud = fakeCloud(five());
    const report = await rotate(cloud.cli, request, quiet);
    assert.deepEqual(report.kept, ["g5", "g4", "g3"]);
    assert.deepEqual(report.hidden, ["g4"]);
    assert.deepEqual(report.deleted, ["g2", "g1"]);
    assert.deepEqual(cloud.calls, ["image set --hidden g4", "image delete g2", "image delete g1"]);
    assert.deepEqual(
      cloud.images.map((i) => [i.id, i.hidden]),
      [
        ["g3", true],
        ["g4", true],
        ["g5", false],
      ],
    );
    assert.deepEqual(report.next, { hide: ["g5"], delete: ["g3"] });
    assert.deepEqual((await rotate(fakeCloud(five()).cli, { ...request, keep: 1 }, quiet)).next, {
      hide: [],
      delete: ["g5"],
    });
  });

  it("orders generations by when they were promoted, not by when they were uploaded", async () => {
    // g1 was uploaded first but promoted last before g5 (a rebuild of older bytes that passed later).
    const cloud = fakeCloud([
      gen(1, { properties: { nixos_cloud_image_promoted: "2026-11-04T12:00:00Z" } }),
      gen(4),
      gen(5),
    ]);
    const report = await rotate(cloud.cli, { ...request, keep: 2 }, quiet);
    assert.deepEqual([report.kept, report.deleted], [["g5", "g1"], ["g4"]]);
  });

  it("never deletes a generation a server uses or that is protected, reports it, and deletes it once free", async () => {
    const images = [gen(1, { protected: true }), gen(2), gen(3), gen(4), gen(5, { hidden: false })];
    const cloud = fakeCloud(images, { serversOn: { g2: ["srv-a"] } });
    const lines: string[] = [];
    const report = await rotate(cloud.cli, request, (l) => lines.push(l));
    assert.deepEqual(report.deleted, []);
    assert.deepEqual(report.blocked, [
      { id: "g2", reason: "beyond the newest 3, but server srv-a uses it" },
      { id: "g1", reason: "beyond the newest 3, but it is protected" },
    ]);
    assert.ok(
      lines.some((l) => /kept g2 .*server srv-a uses it; tried again at the next rotation/.test(l)),
      lines.join("\n"),
    );
    const again = await rotate(fakeCloud(cloud.images).cli, request, quiet);
    assert.deepEqual(again.deleted, ["g2"]);
  });

  it("reports a delete Glance refuses as blocked and goes on with the rest", async () => {
    const cloud = fakeCloud(five(), { refuseDelete: ["g2"] });
    const report = await rotate(cloud.cli, request, quiet);
    assert.deepEqual(report.deleted, ["g1"]);
    assert.equal(report.blocked.length, 1);
    assert.equal(report.blocked[0].id, "g2");
    assert.match(report.blocked[0].reason, /Glance refused the delete: .*409 Conflict/);
    assert.deepEqual(cloud.ids(), ["g2", "g3", "g4", "g5"]);
  });

  it("leaves another project's image with the same family ID alone, even one an admin can see", async () => {
    const foreign = gen(1, { owner: "proj-other" });
    const foreignUpload = image("u0", minutesAgo(600), { owner: "proj-other", status: "killed" });
    const cloud = fakeCloud([foreign, foreignUpload, gen(5, { hidden: false })]);
    const report = await rotate(cloud.cli, { ...request, keep: 1, visibility: "public" }, quiet);
    assert.deepEqual([report.deleted, report.kept], [[], ["g5"]]);
    assert.deepEqual(cloud.calls, []);
    assert.deepEqual(cloud.ids(), ["g1", "g5", "u0"]);
  });

  it("leaves an image marked orphaned alone, though it carries the family ID", async () => {
    const orphan = gen(1, { properties: { nixos_cloud_image_orphaned: "2026-10-01" } });
    const cloud = fakeCloud([orphan, gen(5, { hidden: false })]);
    const report = await rotate(cloud.cli, { ...request, keep: 1, visibility: "public" }, quiet);
    assert.deepEqual([report.deleted, cloud.calls], [[], []]);
    assert.deepEqual(cloud.ids(), ["g1", "g5"]);
  });

  it("deletes an upload that never became a generation only once it is older than uploadTimeoutMinutes", async () => {
    const cloud = fakeCloud([
      image("u-old-killed", minutesAgo(120), { status: "killed" }),
      image("u-old-unverified", minutesAgo(120)),
      image("u-recent-saving", minutesAgo(5), { status: "saving" }),
      image("u-recent-unverified", minutesAgo(5)),
      gen(5, { hidden: false }),
    ]);
    const report = await rotate(cloud.cli, request, quiet);
    assert.deepEqual(report.deleted.sort(), ["u-old-killed", "u-old-unverified"]);
    assert.deepEqual(cloud.ids(), ["g5", "u-recent-saving", "u-recent-unverified"]);
    // Uploads are no generations: neither kept nor planned for the next build.
    assert.deepEqual(report.kept, ["g5"]);
  });

  it("leaves a deactivated image alone, upload or generation: only an admin deactivates", async () => {
    const cloud = fakeCloud([
      image("u-deactivated", minutesAgo(600), { status: "deactivated" }),
      gen(1, { status: "deactivated" }),
      gen(5, { hidden: false }),
    ]);
    const report = await rotate(cloud.cli, { ...request, keep: 1 }, quiet);
    assert.deepEqual([report.deleted, cloud.calls], [[], []]);
    assert.deepEqual(cloud.ids(), ["g1", "g5", "u-deactivated"]);
  });

  it("counts only promoted generations toward keep: newer uploads never push out a generation", async () => {
    const uploads = () => [image("u6", minutesAgo(5)), image("u7", minutesAgo(2), { status: "uploading" })];
    const cloud = fakeCloud([gen(4), gen(5, { hidden: false }), ...uploads()]);
    const report = await rotate(cloud.cli, { ...request, keep: 2 }, quiet);
    assert.deepEqual([report.kept, report.deleted], [["g5", "g4"], []]);
    // keep 1: the promoted newest stays, visible; the older generation goes; the uploads stay for their run.
    const one = fakeCloud([gen(4), gen(5, { hidden: false }), ...uploads()]);
    const single = await rotate(one.cli, { ...request, keep: 1 }, quiet);
    assert.deepEqual([single.kept, single.deleted], [["g5"], ["g4"]]);
    assert.deepEqual(one.ids(), ["g5", "u6", "u7"]);
    assert.equal(one.find("g5").hidden, false);
  });

  it("keeps hidden, with the reason, a generation once exposed when the credentials cannot list every project's servers", async () => {
    const exposed = () => [
      gen(1, { visibility: "public" }),
      gen(2, { properties: { nixos_cloud_image_exposed: "community" } }),
      gen(3),
      gen(5, { hidden: false }),
    ];
    const cloud = fakeCloud(exposed(), { scope: "own" });
    const lines: string[] = [];
    const report = await rotate(cloud.cli, { ...request, keep: 1, visibility: "public" }, (l) =>
      lines.push(l),
    );
    // g3 was always private: no other project could boot it, the own project's servers are listed.
    assert.deepEqual(report.deleted, ["g3"]);
    assert.deepEqual(
      report.blocked.map((b) => b.id),
      ["g2", "g1"],
    );
    for (const b of report.blocked) {
      assert.match(b.reason, /may not list other projects' servers \(Nova refused --all-projects\)/);
      assert.match(b.reason, new RegExp(`openstack server list --all-projects --image ${b.id}`));
    }
    assert.ok(cloud.find("g1").hidden && cloud.find("g2").hidden);
    assert.ok(lines.some((l) => /kept g1 .*may not list other projects' servers/.test(l)));
    // With admin credentials (every project's servers listed, none uses them) both go.
    const admin = fakeCloud(exposed(), { scope: "all" });
    assert.deepEqual(
      (await rotate(admin.cli, { ...request, keep: 1, visibility: "public" }, quiet)).deleted.sort(),
      ["g1", "g2", "g3"],
    );
  });

  it("works on a cloud without compute: no server can use an image there", async () => {
    const cloud = fakeCloud([gen(1, { visibility: "public" }), gen(5, { hidden: false })], { scope: "none" });
    assert.deepEqual((await rotate(cloud.cli, { ...request, keep: 1 }, quiet)).deleted, ["g1"]);
  });

  it("applies the visibility setting to every kept generation and marks the exposed ones", async () => {
    const cloud = fakeCloud([gen(3), gen(4), gen(5, { hidden: false, visibility: "public" })]);
    await rotate(cloud.cli, { ...request, visibility: "public" }, quiet);
    for (const id of ["g3", "g4"]) {
      assert.equal(cloud.find(id).visibility, "public", id);
      assert.equal(cloud.find(id).properties.nixos_cloud_image_exposed, "public", id);
    }
    // Back to private: kept generations follow, and the exposed mark stays (it records the past).
    await rotate(cloud.cli, { ...request, visibility: "private" }, quiet);
    assert.deepEqual(
      ["g3", "g4"].map((id) => [
        cloud.find(id).visibility,
        cloud.find(id).properties.nixos_cloud_image_exposed,
      ]),
      [
        ["private", "public"],
        ["private", "public"],
      ],
    );
  });

  it("removes members that are no longer listed from every kept shared generation, and all of them when it stops being shared", async () => {
    const shared = { visibility: "shared", members: ["proj-a", "proj-b"] };
    const cloud = fakeCloud([gen(4, shared), gen(5, { ...shared, hidden: false })]);
    const report = await rotate(cloud.cli, { ...request, visibility: "shared", members: ["proj-a"] }, quiet);
    assert.deepEqual(report.unshared, ["g4: proj-b"]);
    assert.deepEqual(cloud.find("g4").members, ["proj-a"]);
    const unshared = fakeCloud([gen(4, shared), gen(5, { hidden: false })]);
    await rotate(unshared.cli, { ...request, visibility: "private", members: [] }, quiet);
    assert.deepEqual([unshared.find("g4").members, unshared.find("g4").visibility], [[], "private"]);
  });
});

describe("the family's end (remove-family)", () => {
  it("deletes the family's images that may go, and marks and lists the ones it must leave", async () => {
    const cloud = fakeCloud(
      [
        gen(2, { protected: true }),
        gen(3),
        gen(4),
        gen(5, { hidden: false }),
        image("u6", minutesAgo(1)),
        gen(1, { status: "deactivated" }),
      ],
      { serversOn: { g4: ["srv-a", "srv-b"] } },
    );
    const report = await removeFamily(cloud.cli, FAMILY, 30, quiet);
    // u6, an upload younger than uploadTimeoutMinutes, may still be under way: kept and marked too.
    assert.deepEqual(report.deleted.sort(), ["g3", "g5"]);
    assert.deepEqual(report.orphaned.sort(), ["g1", "g2", "g4", "u6"]);
    assert.deepEqual(
      report.blocked.find((b) => b.id === "g4"),
      { id: "g4", reason: "servers srv-a, srv-b use it" },
    );
    const today = new Date().toISOString().slice(0, 10);
    for (const id of ["g1", "g2", "g4", "u6"])
      assert.equal(cloud.find(id).properties.nixos_cloud_image_orphaned, today);
    // Marked, no later family adopts them: a second end deletes nothing and marks nothing again.
    const again = await removeFamily(fakeCloud(cloud.images).cli, FAMILY, 30, quiet);
    assert.deepEqual([again.deleted, again.orphaned], [[], []]);
  });

  it("deletes an upload older than uploadTimeoutMinutes that never became a generation", async () => {
    const cloud = fakeCloud([image("u1", minutesAgo(31), { status: "saving" }), gen(5)]);
    const report = await removeFamily(cloud.cli, FAMILY, 30, quiet);
    assert.deepEqual([report.deleted.sort(), cloud.ids()], [["g5", "u1"], []]);
  });

  it("reports a hide Glance refuses and goes on: the rotation does not fail", async () => {
    const cloud = fakeCloud([gen(3, { hidden: false }), gen(4, { hidden: false }), gen(5)]);
    const cli = {
      ...cloud.cli,
      text: async (args: string[]) => {
        if (args.join(" ") === "image set --hidden g4")
          throw new Error("openstack image set failed: 403 Forbidden");
        return cloud.cli.text(args);
      },
    };
    const report = await rotate(cli, { ...request, keep: 3 }, quiet);
    assert.deepEqual(report.hidden, ["g3"]);
    assert.deepEqual(report.blocked, [
      { id: "g4", reason: "Glance refused to hide it: openstack image set failed: 403 Forbidden" },
    ]);
  });

  it("leaves another project's image with the family ID alone", async () => {
    const cloud = fakeCloud([gen(1, { owner: "proj-other" }), gen(5)]);
    const report = await removeFamily(cloud.cli, FAMILY, 30, quiet);
    assert.deepEqual([report.deleted, cloud.ids()], [["g5"], ["g1"]]);
    assert.deepEqual(cloud.calls, ["image delete g5"]);
  });

  it("keeps, marks and names an exposed image when the credentials cannot list every project's servers", async () => {
    const cloud = fakeCloud([gen(1, { visibility: "community" }), gen(2)], { scope: "own" });
    const lines: string[] = [];
    const report = await removeFamily(cloud.cli, FAMILY, 30, (l) => lines.push(l));
    assert.deepEqual([report.deleted, report.orphaned], [["g2"], ["g1"]]);
    assert.ok(
      lines.some((l) => /left g1 .* marked nixos_cloud_image_orphaned=/.test(l)),
      lines.join("\n"),
    );
  });
});
