// The test boot's cloud resources: made with names and tags that carry the stack's tag, and found again by
// them. Finding by tag is the whole cleanup: the same sweep ends every run and removes what an interrupted
// run left, so no record of what was made needs to survive the run.
import type { Cli } from "../program/openstackCli.ts";

/** The name of every resource of one stack's test boot (and its Neutron tag). */
export function resourceName(tag: string): string {
  return `nixos-image-verify-${tag}`;
}

export interface Found {
  servers: string[];
  floatingIps: string[];
  ports: string[];
  securityGroups: string[];
  keypairs: string[];
}

export function isEmpty(found: Found): boolean {
  return Object.values(found).every((ids: string[]) => ids.length === 0);
}

export function describeFound(found: Found): string {
  const parts: string[] = [];
  const add = (ids: string[], what: string) => {
    if (ids.length > 0) parts.push(`${ids.length} ${what} (${ids.join(", ")})`);
  };
  add(found.servers, "server(s)");
  add(found.floatingIps, "floating IP(s)");
  add(found.ports, "port(s)");
  add(found.securityGroups, "security group(s)");
  add(found.keypairs, "key pair(s)");
  return parts.join(", ");
}

type Row = Record<string, unknown>;
const ids = (rows: Row[] | null, key = "ID") => (rows ?? []).map((r) => String(r[key]));

/** Everything of this tag in the cloud. Names are exact: Nova's name filter is a regex, so it is anchored. */
export async function findResources(cli: Cli, tag: string): Promise<Found> {
  const name = resourceName(tag);
  const [servers, floatingIps, ports, groups, keypairs] = await Promise.all([
    cli.json<Row[]>(["server", "list", "--no-name-lookup", "--name", `^${name}$`]),
    // A cloud without Neutron's L3 service has no floating IP API (404): then there are none.
    cli
      .json<Row[]>(["floating", "ip", "list", "--tags", name])
      .catch((error: Error) => (/\b404\b|ResourceNotFound/.test(error.message) ? [] : Promise.reject(error))),
    cli.json<Row[]>(["port", "list", "--name", name]),
    cli.json<Row[]>(["security", "group", "list"]),
    cli.json<Row[]>(["keypair", "list"]),
  ]);
  return {
    servers: ids(servers),
    floatingIps: ids(floatingIps),
    ports: ids(ports),
    securityGroups: ids((groups ?? []).filter((g) => g.Name === name)),
    keypairs: ids(
      (keypairs ?? []).filter((k) => k.Name === name),
      "Name",
    ),
  };
}

/**
 * Deletes what was found, dependents first: the floating IP and the server before the port they use, the port
 * before its security group. Waits for the server to be gone, so its port is free to delete. What does not
 * depend on each other goes at once (the key pair with everything), as each CLI call costs a second or two.
 */
export async function deleteResources(cli: Cli, found: Found): Promise<void> {
  const remove = async (ids: string[], command: string[]) => {
    if (ids.length > 0) await cli.text([...command, ...ids]);
  };
  const ordered = async () => {
    await Promise.all([
      remove(found.floatingIps, ["floating", "ip", "delete"]),
      remove(found.servers, ["server", "delete", "--wait"]),
    ]);
    await remove(found.ports, ["port", "delete"]);
    await remove(found.securityGroups, ["security", "group", "delete"]);
  };
  // allSettled: a failed branch must not leave the other one running unseen; the first failure is reported.
  const results = await Promise.allSettled([ordered(), remove(found.keypairs, ["keypair", "delete"])]);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
}

/** Finds and deletes everything of this tag; returns what was there. */
export async function sweep(cli: Cli, tag: string): Promise<Found> {
  const found = await findResources(cli, tag);
  if (!isEmpty(found)) await deleteResources(cli, found);
  return found;
}
