// The image's metadata, changed in place: properties (standard, SCS and the user's) and min_ram. Bytes that
// did not change are never uploaded again for a new property, and the OpenStack provider would drop changes to
// os_* properties (Glance keeps the old values), so the CLI sets them here.
import { credentialsProject, familyImage } from "./family.ts";
import type { Cli } from "./openstackCli.ts";
import type { MetadataRequest } from "./request.ts";

/** What the step leaves in the state (its stdout): the properties it set, so the next run can unset dropped ones. */
export interface MetadataRecord {
  properties: Record<string, string>;
}

function previousKeys(previous: string | undefined): string[] {
  try {
    return Object.keys((JSON.parse(previous ?? "") as MetadataRecord).properties ?? {});
  } catch {
    return [];
  }
}

export async function applyMetadata(
  cli: Cli,
  req: MetadataRequest,
  previous: string | undefined,
  log: (line: string) => void,
): Promise<MetadataRecord> {
  const image = await familyImage(cli, req.imageId, req.family, await credentialsProject(cli));
  if (image === undefined) {
    throw new Error(
      `image ${req.imageId} is not in Glance as this stack's (owner and family ID): its metadata is left alone; ` +
        "`pulumi up --refresh` finds out what happened to it",
    );
  }
  const set = Object.entries(req.properties).flatMap(([key, value]) => ["--property", `${key}=${value}`]);
  await cli.text(["image", "set", "--min-ram", String(req.minRamMb), ...set, req.imageId]);
  const dropped = previousKeys(previous).filter((key) => !(key in req.properties));
  if (dropped.length > 0) {
    await cli.text(["image", "unset", ...dropped.flatMap((key) => ["--property", key]), req.imageId]);
  }
  log(
    `image ${req.imageId}: ${Object.keys(req.properties).length} properties and min_ram ${req.minRamMb} MiB set` +
      (dropped.length > 0 ? `, ${dropped.join(", ")} removed` : ""),
  );
  return { properties: req.properties };
}
