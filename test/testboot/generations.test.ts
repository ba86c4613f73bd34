// Rotation's decisions, against an in-memory Glance + Nova behind the Cli interface (unit tier); the real
// Glance runs them in test/e2e/lifecycle.test.ts.
import assert from "node:assert/strict";
import { removeFamily, rotate } from "../../testboot/generations.ts";
import type { Cli } from "../../testboot/openstackCli.ts";

interface FakeImage {
  id: string;
  family: string;
  created: string;
  hidden: boolean;
  protected: boolean;
  visibility: string;
  members: string[];
  status?: string;
}

/** Answers the CLI calls rotation makes; `calls` records every mutating one. */
function fakeCloud(images: FakeImage[], serversOn: Record<string, string[]> = {}, compute = true) {
  const calls: string[] = [];
  const find = (id: string) => images.find((i) => i.id === id)!;
  const cli: Cli = {
    async json(args): Promise<any> {
      const words = args.join(" ");
      if (words.startsWith("image list")) {
        const family = args[args.indexOf("--property") + 1].split("=")[1];
        const hidden = args.includes("--hidden");
        return images.filter((i) => i.family === family && i.hidden === hidden).map((i) => ({ ID: i.id }));
      }
      if (words.startsWith("image show")) {
        const i = find(args[2]);
        return {
          id: i.id,
          name: `name-${i.id}`,
          created_at: i.created,
          properties: { os_hidden: i.hidden },
          protected: i.protected,
          visibility: i.visibility,
          status: i.status ?? "active",
        };
      }
      if (words.startsWith("server list")) {
        if (!compute)
          throw new Error(
            "openstack server list failed: public endpoint for compute service in RegionOne region not found",
          );
        // As for a project member: listing every project's servers is an admin's.
        if (args.includes("--all-projects"))
          throw new Error(
            "openstack server list failed: Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed. (HTTP 403)",
          );
        return (serversOn[args[3]] ?? []).map((s) => ({ ID: s }));
      }
      if (words.startsWith("image member list"))
        return find(args[3]).members.map((m) => ({ "Member ID": m }));
      throw new Error(`unexpected ${words}`);
    },
    async text(args) {
      calls.push(args.join(" "));
      if (args[1] === "set") find(args[3]).hidden = args[2] === "--hidden";
      if (args[1] === "delete") images.splice(images.indexOf(find(args[2])), 1);
      if (args[1] === "remove") find(args[3]).members = find(args[3]).members.filter((m) => m !== args[4]);
      return "";
    },
  };
  return { cli, calls, images };
}

const gen = (n: number, extra: Partial<FakeImage> = {}): FakeImage => ({
  id: `g${n}`,
  family: "p/s/nixos",
  created: `2026-12-0${n}T00:00:00Z`,
  hidden: n < 4,
  protected: false,
  visibility: "private",
  members: [],
  ...extra,
});
const request = { family: "p/s/nixos", imageId: "g5", keep: 3, members: [], openstack: {} };
const quiet = () => undefined;

describe("rotation of generations", () => {
  it("keeps the newest visible, hides the next keep - 1, deletes the rest", async () => {
    const cloud = fakeCloud([gen(1), gen(2), gen(3), gen(4, { hidden: false }), gen(5, { hidden: false })]);
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
  });

  it("never deletes a generation a server uses or that is protected, reports it, and deletes it once free", async () => {
    const images = [gen(1, { protected: true }), gen(2), gen(3), gen(4), gen(5, { hidden: false })];
    const cloud = fakeCloud(images, { g2: ["srv-a"] });
    const lines: string[] = [];
    const report = await rotate(cloud.cli, request, (l) => lines.push(l));
    assert.deepEqual(report.deleted, []);
    assert.deepEqual(report.blocked, [
      { id: "g2", reason: "server srv-a uses it" },
      { id: "g1", reason: "it is protected" },
    ]);
    assert.ok(
      lines.some((l) =>
        /kept generation g2 .* beyond the newest 3: server srv-a uses it; tried again at the next rotation/.test(
          l,
        ),
      ),
    );
    const again = await rotate(fakeCloud(cloud.images).cli, request, quiet);
    assert.deepEqual(again.deleted, ["g2"]);
  });

  it("deletes a failed upload of the family at once, without counting it as a generation", async () => {
    const cloud = fakeCloud([gen(3), gen(4, { status: "saving" }), gen(5, { hidden: false })]);
    const report = await rotate(cloud.cli, { ...request, keep: 2 }, quiet);
    assert.deepEqual([report.deleted, report.kept], [["g4"], ["g5", "g3"]]);
  });

  it("works on a cloud without compute: no server can use an image there", async () => {
    const cloud = fakeCloud([gen(1), gen(5, { hidden: false })], {}, false);
    assert.deepEqual((await rotate(cloud.cli, { ...request, keep: 1 }, quiet)).deleted, ["g1"]);
  });

  it("leaves other families alone", async () => {
    const cloud = fakeCloud([gen(1, { family: "p/other/nixos" }), gen(5, { hidden: false })]);
    const report = await rotate(cloud.cli, { ...request, keep: 1 }, quiet);
    assert.deepEqual([report.deleted, cloud.images.length], [[], 2]);
  });

  it("removes members that are no longer listed from every kept shared generation", async () => {
    const shared = { visibility: "shared", members: ["proj-a", "proj-b"] };
    const cloud = fakeCloud([gen(4, shared), gen(5, { ...shared, hidden: false })]);
    const report = await rotate(cloud.cli, { ...request, members: ["proj-a"] }, quiet);
    assert.deepEqual(report.unshared, ["g5: proj-b", "g4: proj-b"]);
    assert.deepEqual(
      cloud.images.map((i) => i.members),
      [["proj-a"], ["proj-a"]],
    );
  });

  it("on destroy deletes the whole family but what a server still needs", async () => {
    const cloud = fakeCloud([gen(3), gen(4), gen(5, { hidden: false })], { g4: ["srv-a", "srv-b"] });
    const report = await removeFamily(cloud.cli, "p/s/nixos", quiet);
    assert.deepEqual(report.deleted, ["g5", "g3"]);
    assert.deepEqual(report.blocked, [{ id: "g4", reason: "servers srv-a, srv-b use it" }]);
  });
});
