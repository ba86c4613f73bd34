// An in-memory Glance + Nova behind the Cli interface (unit tier): just the calls the stages' programs (stages/) make for rotation,
// promotion and the family's end. `calls` records every mutating call, in order.
import type { Cli } from "../../stages/program/openstackCli.ts";

export const OWN_PROJECT = "proj-own";
export const FAMILY = "nci-11111111-2222-3333-4444-555555555555";

export interface FakeImage {
  id: string;
  owner: string;
  created: string;
  hidden: boolean;
  protected: boolean;
  visibility: string;
  members: string[];
  status: string;
  minRam: number;
  /** Glance properties (the family ID, the stage marks, os_hash_*, the SCS ones). */
  properties: Record<string, string>;
}

export interface FakeCloudOptions {
  /** Image → the servers that boot it. */
  serversOn?: Record<string, string[]>;
  /** "all": the credentials may list every project's servers; "own": Nova refuses --all-projects; "none": no compute. */
  scope?: "all" | "own" | "none";
  /** Images whose delete Glance refuses. */
  refuseDelete?: string[];
}

/** A generation or upload of FAMILY in the credentials' project; `promoted` makes it a generation. */
export function image(
  id: string,
  created: string,
  extra: Partial<FakeImage> & { promoted?: string } = {},
): FakeImage {
  const { promoted, properties, ...rest } = extra;
  return {
    id,
    owner: OWN_PROJECT,
    created,
    hidden: true,
    protected: false,
    visibility: "private",
    members: [],
    status: "active",
    minRam: 0,
    ...rest,
    properties: {
      nixos_cloud_image_family: FAMILY,
      ...(promoted === undefined ? {} : { nixos_cloud_image_promoted: promoted }),
      ...properties,
    },
  };
}

/** An ISO time `minutes` before now. */
export const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

export function fakeCloud(images: FakeImage[], options: FakeCloudOptions = {}) {
  const { serversOn = {}, scope = "all", refuseDelete = [] } = options;
  const calls: string[] = [];
  const find = (id: string) => {
    const found = images.find((i) => i.id === id);
    if (found === undefined) throw new Error(`openstack image show failed: No Image found for ${id}`);
    return found;
  };
  const opt = (args: string[], flag: string) => args[args.indexOf(flag) + 1];
  const cli: Cli = {
    async json(args): Promise<any> {
      const words = args.join(" ");
      if (words === "token issue") return { project_id: OWN_PROJECT, user_id: "u" };
      if (words.startsWith("image list")) {
        // As for an admin: every project's images with the property, the owner is not filtered.
        const [key, value] = opt(args, "--property").split("=");
        const hidden = args.includes("--hidden");
        return images
          .filter((i) => i.properties[key] === value && i.hidden === hidden)
          .map((i) => ({ ID: i.id }));
      }
      if (words.startsWith("image show")) {
        const i = find(args[2]);
        // As python-openstackclient shows them: fields it does not know go into "properties".
        return {
          id: i.id,
          name: `name-${i.id}`,
          owner: i.owner,
          created_at: i.created,
          protected: i.protected,
          visibility: i.visibility,
          status: i.status,
          min_ram: i.minRam,
          properties: { os_hidden: i.hidden, ...i.properties },
        };
      }
      if (words.startsWith("server list")) {
        if (scope === "none")
          throw new Error(
            "openstack server list failed: public endpoint for compute service in RegionOne region not found",
          );
        if (scope === "own" && args.includes("--all-projects"))
          throw new Error(
            "openstack server list failed: Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed. (HTTP 403)",
          );
        if (!args.includes("--image")) return [];
        return (serversOn[opt(args, "--image")] ?? []).map((s) => ({ ID: s }));
      }
      if (words.startsWith("image member list"))
        return find(args[3]).members.map((m) => ({ "Member ID": m }));
      throw new Error(`unexpected ${words}`);
    },
    async text(args) {
      calls.push(args.join(" "));
      const target = args.at(-1)!;
      if (args[1] === "set") {
        const i = find(target);
        for (const [n, word] of args.entries()) {
          if (word === "--hidden") i.hidden = true;
          if (word === "--unhidden") i.hidden = false;
          if (["--private", "--public", "--shared", "--community"].includes(word))
            i.visibility = word.slice(2);
          if (word === "--min-ram") i.minRam = Number(args[n + 1]);
          if (word === "--property") {
            const [key, ...value] = args[n + 1].split("=");
            i.properties[key] = value.join("=");
          }
        }
      } else if (args[1] === "unset") {
        const i = find(target);
        for (const [n, word] of args.entries()) if (word === "--property") delete i.properties[args[n + 1]];
      } else if (args[1] === "delete") {
        if (refuseDelete.includes(target))
          throw new Error(
            `openstack image delete failed: 409 Conflict: Image ${target} could not be deleted`,
          );
        images.splice(images.indexOf(find(target)), 1);
      } else if (args[1] === "remove") {
        const i = find(args[3]);
        i.members = i.members.filter((m) => m !== args[4]);
      } else throw new Error(`unexpected ${args.join(" ")}`);
      return "";
    },
  };
  const ids = () => images.map((i) => i.id).sort();
  return { cli, calls, images, ids, find };
}
