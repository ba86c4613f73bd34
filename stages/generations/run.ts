// Rotation of an image family in Glance, through the openstack CLI. Only images the family owns are touched
// (stages/family/run.ts). A generation is a promoted upload: the newest stays visible, the next keep - 1 are hidden
// (Glance's os_hidden: out of image lists, still bootable by UUID), older ones are deleted unless they must
// stay. When in doubt an image is kept and the log says why; a delete Glance refuses is reported, not fatal.
import { credentialsProject, familyImages } from "../family/run.ts";
import type { FamilyImage } from "../family/run.ts";
import { CliError } from "../program/openstackCli.ts";
import type { Cli } from "../program/openstackCli.ts";
import { EXPOSED_PROPERTY, ORPHANED_PROPERTY } from "../program/marks.ts";
import type { Visibility } from "../../components/args.ts";
import type { GenerationsRequest } from "../program/request.ts";

export interface GenerationsReport {
  /** The family's generations after rotation, newest first. */
  kept: string[];
  hidden: string[];
  deleted: string[];
  /** Images that should have gone but stay, with why. */
  blocked: { id: string; reason: string }[];
  /** Members removed from generations: "image ID: project ID". */
  unshared: string[];
  /** The family's end: images left in Glance, marked nixos_cloud_image_orphaned. */
  orphaned: string[];
  /** What the next new generation will do to the kept ones: hide these, delete these (unless they must stay). */
  next: { hide: string[]; delete: string[] };
}

const emptyReport = (): GenerationsReport => ({
  kept: [],
  hidden: [],
  deleted: [],
  blocked: [],
  unshared: [],
  orphaned: [],
  next: { hide: [], delete: [] },
});

/** Glance statuses of an upload that is under way or failed; any other non-active one (deactivated) is an admin's. */
const UPLOAD_STATES = ["queued", "saving", "uploading", "importing", "killed"];

/** Why an upload that never became a generation must be left alone, or undefined when it has failed for sure. */
function underWay(upload: FamilyImage, uploadTimeoutMinutes: number): string | undefined {
  if (upload.status !== "active" && !UPLOAD_STATES.includes(upload.status)) {
    return `it is ${upload.status}, which only an admin or Glance makes`;
  }
  if (Date.parse(upload.createdAt) > Date.now() - uploadTimeoutMinutes * 60_000) {
    return `it is ${upload.status} and younger than uploadTimeoutMinutes: another run may still be uploading or checking it`;
  }
  return undefined;
}

/** Runs one change of an image; a refusal becomes a report (`blocked`), never the rotation's failure. */
async function tryChange(
  report: GenerationsReport,
  log: (line: string) => void,
  imageId: string,
  what: string,
  change: () => Promise<unknown>,
): Promise<boolean> {
  try {
    await change();
    return true;
  } catch (error) {
    const reason = `Glance refused to ${what}: ${(error as Error).message}`;
    report.blocked.push({ id: imageId, reason });
    log(`${imageId}: ${reason}; tried again at the next rotation`);
    return false;
  }
}

/** Where the credentials can see servers: every project (an admin's), their own only, or no compute at all. */
type ServerScope = "all" | "own" | "none";

async function serverScope(cli: Cli): Promise<ServerScope> {
  try {
    await cli.json(["server", "list", "--all-projects", "--limit", "1"]);
    return "all";
  } catch (error) {
    if (/endpoint for compute service/i.test(String(error))) return "none";
    if (/policy|forbidden|403/i.test(String(error))) return "own";
    throw error;
  }
}

/** Why an image must stay, or undefined when it may be deleted. */
async function mustStay(cli: Cli, image: FamilyImage, scope: ServerScope): Promise<string | undefined> {
  if (image.protected) return "it is protected";
  if (scope === "none") return undefined;
  if (scope === "own" && image.exposed) {
    return (
      `it was ${image.visibility === "private" ? "once shared or public" : image.visibility}, and these credentials ` +
      "may not list other projects' servers (Nova refused --all-projects), so a server elsewhere may boot it; " +
      `delete it with admin credentials once \`openstack server list --all-projects --image ${image.id}\` is empty`
    );
  }
  const scopeArgs = scope === "all" ? ["--all-projects"] : [];
  const servers = (
    await cli.json<{ ID: string }[]>(["server", "list", "--image", image.id, ...scopeArgs])
  ).map((s) => s.ID);
  if (servers.length === 0) return undefined;
  return `server${servers.length > 1 ? "s" : ""} ${servers.join(", ")} use${servers.length > 1 ? "" : "s"} it`;
}

/** Deletes the image unless it must stay or Glance refuses; returns why it stayed. */
async function deleteUnlessNeeded(
  cli: Cli,
  image: FamilyImage,
  scope: () => Promise<ServerScope>,
): Promise<string | undefined> {
  const reason = await mustStay(cli, image, await scope());
  if (reason !== undefined) return reason;
  try {
    await cli.text(["image", "delete", image.id]);
    return undefined;
  } catch (error) {
    // The CLI's last line only counts failures ("Failed to delete 1 of 1 images."): Glance's reason is above it.
    const said = error instanceof CliError && error.stderr !== "" ? error.stderr : (error as Error).message;
    return `Glance refused the delete: ${said.split("\n").filter(Boolean).join(" ")}`;
  }
}

/** Removes from a shared image every member not in `keep`; returns the removed ones. */
export async function removeMembers(cli: Cli, imageId: string, keep: string[]): Promise<string[]> {
  const current = await cli.json<{ "Member ID": string }[]>(["image", "member", "list", imageId]);
  const removed = current.map((m) => m["Member ID"]).filter((m) => !keep.includes(m));
  for (const member of removed) await cli.text(["image", "remove", "project", imageId, member]);
  return removed;
}

/** The `image set` words that apply a visibility and remember that the image was ever more than private. */
export function visibilityArgs(visibility: Visibility): string[] {
  return visibility === "private"
    ? ["--private"]
    : [`--${visibility}`, "--property", `${EXPOSED_PROPERTY}=${visibility}`];
}

const once = <T>(f: () => Promise<T>) => {
  let value: Promise<T> | undefined;
  return () => (value ??= f());
};

export async function rotate(
  cli: Cli,
  req: GenerationsRequest,
  log: (line: string) => void,
): Promise<GenerationsReport> {
  const all = await familyImages(cli, req.family, await credentialsProject(cli));
  const scope = once(() => serverScope(cli));
  const report = emptyReport();
  const keep = (image: FamilyImage, reason: string) => {
    report.blocked.push({ id: image.id, reason });
    log(`kept ${image.id} (${image.name}): ${reason}; tried again at the next rotation`);
  };

  // Uploads that never became generations: failed, or never passed their check. Only old ones are gone for
  // sure; a recent one may be another run's upload still under way.
  for (const upload of all.filter((i) => i.promotedAt === undefined && i.id !== req.imageId)) {
    const busy = underWay(upload, req.uploadTimeoutMinutes);
    if (busy !== undefined) {
      log(`left ${upload.id} (${upload.name}) alone: ${busy}`);
      continue;
    }
    const reason = await deleteUnlessNeeded(cli, upload, scope);
    if (reason !== undefined) keep(upload, reason);
    else {
      report.deleted.push(upload.id);
      log(
        `deleted ${upload.id} (${upload.name}): an upload that never became a generation (${upload.status})`,
      );
    }
  }

  // Generations: promoted and active (an image an admin deactivated is theirs to handle), newest promoted first.
  const older = all
    .filter((i) => i.promotedAt !== undefined && i.status === "active" && i.id !== req.imageId)
    .sort((a, b) => b.promotedAt!.localeCompare(a.promotedAt!) || b.createdAt.localeCompare(a.createdAt));
  const kept: FamilyImage[] = [];
  for (const [i, generation] of older.entries()) {
    if (i >= req.keep - 1) {
      const reason = await deleteUnlessNeeded(cli, generation, scope);
      if (reason === undefined) {
        report.deleted.push(generation.id);
        log(`deleted generation ${generation.id} (${generation.name}): older than the newest ${req.keep}`);
        continue;
      }
      keep(generation, `beyond the newest ${req.keep}, but ${reason}`);
    }
    if (!generation.hidden) {
      const hid = () => cli.text(["image", "set", "--hidden", generation.id]);
      if (await tryChange(report, log, generation.id, "hide it", hid)) {
        report.hidden.push(generation.id);
        log(`hid generation ${generation.id}`);
      }
    }
    kept.push(generation);
  }

  // Visibility and members reach every kept generation (the newest got both from promotion).
  for (const generation of kept) {
    const { id } = generation;
    if (generation.visibility !== req.visibility) {
      const change = async () => {
        if (generation.visibility === "shared") await unshare(cli, id, [], report, log);
        await cli.text(["image", "set", ...visibilityArgs(req.visibility), id]);
      };
      if (!(await tryChange(report, log, id, `make it ${req.visibility}`, change))) continue;
      log(`generation ${id} is now ${req.visibility}`);
      generation.visibility = req.visibility;
    }
    if (generation.visibility === "shared") {
      await tryChange(report, log, id, "remove members", () => unshare(cli, id, req.members, report, log));
    }
  }

  report.kept = [req.imageId, ...kept.map((g) => g.id)];
  report.next = {
    hide: req.keep > 1 ? [req.imageId] : [],
    delete: report.kept.slice(req.keep - 1),
  };
  log(
    `family ${req.family}: ${report.kept.length} generation(s) kept, newest ${req.imageId}; the next build ` +
      `hides ${report.next.hide.join(", ") || "nothing"} and deletes ${report.next.delete.join(", ") || "nothing"}`,
  );
  return report;
}

async function unshare(
  cli: Cli,
  imageId: string,
  members: string[],
  report: GenerationsReport,
  log: (line: string) => void,
): Promise<void> {
  for (const member of await removeMembers(cli, imageId, members)) {
    report.unshared.push(`${imageId}: ${member}`);
    log(`removed member ${member} from ${imageId}`);
  }
}

/**
 * The family's end (`pulumi destroy`, a region removed): deletes every image of the family that may go, and
 * marks the rest nixos_cloud_image_orphaned=<date> (no family touches a marked image again), listing them.
 */
export async function removeFamily(
  cli: Cli,
  family: string,
  uploadTimeoutMinutes: number,
  log: (line: string) => void,
): Promise<GenerationsReport> {
  const report = emptyReport();
  const scope = once(() => serverScope(cli));
  const today = new Date().toISOString().slice(0, 10);
  for (const image of await familyImages(cli, family, await credentialsProject(cli))) {
    const busy = image.promotedAt === undefined ? underWay(image, uploadTimeoutMinutes) : undefined;
    const reason =
      busy ??
      (image.status === "active" || UPLOAD_STATES.includes(image.status)
        ? await deleteUnlessNeeded(cli, image, scope)
        : `it is ${image.status}, which only an admin or Glance makes`);
    if (reason === undefined) {
      report.deleted.push(image.id);
      log(`deleted ${image.id} (${image.name})`);
      continue;
    }
    report.blocked.push({ id: image.id, reason });
    try {
      await cli.text(["image", "set", "--property", `${ORPHANED_PROPERTY}=${today}`, image.id]);
      report.orphaned.push(image.id);
      log(
        `left ${image.id} (${image.name}) in Glance, marked ${ORPHANED_PROPERTY}=${today}: ${reason}; delete it once it is free`,
      );
    } catch (error) {
      log(
        `left ${image.id} (${image.name}) in Glance: ${reason}; marking it failed: ${(error as Error).message}`,
      );
    }
  }
  log(
    `family ${family} ended: ${report.deleted.length} image(s) deleted, ${report.blocked.length} left` +
      (report.blocked.length > 0 ? ` (${report.blocked.map((b) => b.id).join(", ")})` : ""),
  );
  return report;
}
