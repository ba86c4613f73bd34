// Rotation of an image family in Glance, through the openstack CLI: the newest generation visible, the next
// keep - 1 hidden (Glance's os_hidden: out of image lists, still bootable by UUID), the rest deleted unless a
// server uses them or they are protected. What is kept for those reasons is reported, never forced.
import { imageField } from "./openstackCli.ts";
import type { Cli } from "./openstackCli.ts";
import { FAMILY_PROPERTY } from "./request.ts";
import type { GenerationsRequest } from "./request.ts";

interface Generation {
  id: string;
  name: string;
  createdAt: string;
  hidden: boolean;
  protected: boolean;
  visibility: string;
  /** Glance's status: only "active" images are generations; others are uploads that failed. */
  status: string;
}

export interface GenerationsReport {
  /** The family's generations after rotation, newest first. */
  kept: string[];
  hidden: string[];
  deleted: string[];
  /** Generations that should have gone but stay, with why. */
  blocked: { id: string; reason: string }[];
  /** Members removed from generations: "image ID: project ID". */
  unshared: string[];
}

/** The family's images, visible and hidden, newest first. */
export async function listGenerations(cli: Cli, family: string): Promise<Generation[]> {
  const filter = ["--property", `${FAMILY_PROPERTY}=${family}`];
  const [visible, hidden] = await Promise.all([
    cli.json<{ ID: string }[]>(["image", "list", ...filter]),
    cli.json<{ ID: string }[]>(["image", "list", "--hidden", ...filter]),
  ]);
  const ids = [...new Set([...visible, ...hidden].map((i) => i.ID))];
  const shown = await Promise.all(ids.map((id) => cli.json<Record<string, unknown>>(["image", "show", id])));
  return shown
    .map((i) => ({
      id: String(i.id),
      name: String(i.name),
      createdAt: String(i.created_at),
      hidden: imageField(i, "os_hidden") === true,
      protected: i.protected === true,
      visibility: String(i.visibility),
      status: String(i.status),
    }))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

/**
 * Servers that boot from the image: in every project where the credentials may look (an admin's), else in their
 * own project. A cloud without compute has none.
 */
async function serversUsing(cli: Cli, imageId: string): Promise<string[]> {
  const list = async (scope: string[]) =>
    (await cli.json<{ ID: string }[]>(["server", "list", "--image", imageId, ...scope])).map((s) => s.ID);
  try {
    return await list(["--all-projects"]);
  } catch (error) {
    if (/endpoint for compute service/i.test(String(error))) return [];
    if (!/policy|forbidden|403/i.test(String(error))) throw error;
    return list([]);
  }
}

/** Why a generation must stay, or undefined when it may be deleted. */
async function mustStay(cli: Cli, generation: Generation): Promise<string | undefined> {
  if (generation.protected) return "it is protected";
  const servers = await serversUsing(cli, generation.id);
  if (servers.length > 0)
    return `server${servers.length > 1 ? "s" : ""} ${servers.join(", ")} use${servers.length > 1 ? "" : "s"} it`;
  return undefined;
}

/** Deletes the generation unless it must stay; returns why it stayed. */
async function deleteUnlessNeeded(cli: Cli, generation: Generation): Promise<string | undefined> {
  const reason = await mustStay(cli, generation);
  if (reason === undefined) await cli.text(["image", "delete", generation.id]);
  return reason;
}

/** Removes from a shared image every member not in `keep`; returns the removed ones. */
export async function removeMembers(cli: Cli, imageId: string, keep: string[]): Promise<string[]> {
  const current = await cli.json<{ "Member ID": string }[]>(["image", "member", "list", imageId]);
  const removed = current.map((m) => m["Member ID"]).filter((m) => !keep.includes(m));
  for (const member of removed) await cli.text(["image", "remove", "project", imageId, member]);
  return removed;
}

export async function rotate(
  cli: Cli,
  req: GenerationsRequest,
  log: (line: string) => void,
): Promise<GenerationsReport> {
  const all = await listGenerations(cli, req.family);
  const report: GenerationsReport = {
    kept: [req.imageId],
    hidden: [],
    deleted: [],
    blocked: [],
    unshared: [],
  };
  // An upload that failed (Glance died, the run was interrupted) left an image that never became active: it
  // is no generation, and Pulumi no longer knows it (images are retained on delete).
  for (const failed of all.filter((g) => g.id !== req.imageId && g.status !== "active" && !g.protected)) {
    await cli.text(["image", "delete", failed.id]);
    report.deleted.push(failed.id);
    log(`deleted ${failed.id} (${failed.name}): an upload that never became active (${failed.status})`);
  }
  const older = all.filter((g) => g.id !== req.imageId && !report.deleted.includes(g.id));
  for (const [i, generation] of older.entries()) {
    if (i < req.keep - 1) {
      if (!generation.hidden) {
        await cli.text(["image", "set", "--hidden", generation.id]);
        report.hidden.push(generation.id);
      }
      report.kept.push(generation.id);
      continue;
    }
    const reason = await deleteUnlessNeeded(cli, generation);
    if (reason === undefined) {
      report.deleted.push(generation.id);
      log(`deleted generation ${generation.id} (${generation.name}): older than the newest ${req.keep}`);
      continue;
    }
    if (!generation.hidden) await cli.text(["image", "set", "--hidden", generation.id]);
    report.kept.push(generation.id);
    report.blocked.push({ id: generation.id, reason });
    log(
      `kept generation ${generation.id} (${generation.name}) beyond the newest ${req.keep}: ${reason}; tried again at the next rotation`,
    );
  }
  // Only shared images have members (Glance refuses to list them for others).
  for (const generation of all.filter((g) => report.kept.includes(g.id) && g.visibility === "shared")) {
    const removed = await removeMembers(cli, generation.id, req.members);
    report.unshared.push(...removed.map((m) => `${generation.id}: ${m}`));
  }
  for (const id of report.hidden) log(`hid generation ${id}`);
  for (const entry of report.unshared) log(`removed member ${entry}`);
  log(`family ${req.family}: ${report.kept.length} generation(s) kept, newest ${req.imageId}`);
  return report;
}

/** On `pulumi destroy` (or a region removed): deletes every generation of the family that no server needs. */
export async function removeFamily(
  cli: Cli,
  family: string,
  log: (line: string) => void,
): Promise<GenerationsReport> {
  const report: GenerationsReport = { kept: [], hidden: [], deleted: [], blocked: [], unshared: [] };
  for (const generation of await listGenerations(cli, family)) {
    const reason = await deleteUnlessNeeded(cli, generation);
    if (reason === undefined) {
      report.deleted.push(generation.id);
      log(`deleted generation ${generation.id} (${generation.name})`);
    } else {
      report.kept.push(generation.id);
      report.blocked.push({ id: generation.id, reason });
      log(
        `left generation ${generation.id} (${generation.name}) in Glance: ${reason}; delete it once it is free`,
      );
    }
  }
  return report;
}
