// Promotion of a new generation, and the image's metadata kept as the settings say. Only an upload Glance
// holds byte for byte (its SHA-512, os_hash_value, equals the one recorded when the file was built) is made
// visible: the provider checks only MD5, and only against what it sent. No local file is read, so a machine
// that did not build the image can promote it. Properties and min_ram are set here, in place, through the
// CLI: the same bytes are never uploaded again for them, and the OpenStack provider would drop changes to os_*
// properties (Glance keeps the old values).
import { removeMembers, visibilityArgs } from "../generations/run.ts";
import { imageField } from "../program/openstackCli.ts";
import type { Cli } from "../program/openstackCli.ts";
import { isEarlierFamily } from "../family/run.ts";
import { FAMILY_PROPERTY, PROMOTED_PROPERTY } from "../program/marks.ts";
import type { PromoteRequest } from "../program/request.ts";

/** What promotion leaves in the state (its stdout): the properties it set, so the next run can unset dropped ones. */
export interface PromoteRecord {
  properties: Record<string, string>;
}

function previousKeys(previous: string | undefined): string[] {
  try {
    return Object.keys((JSON.parse(previous ?? "") as PromoteRecord).properties ?? {});
  } catch {
    return [];
  }
}

export async function promote(
  cli: Cli,
  req: PromoteRequest,
  previous: string | undefined,
  log: (line: string) => void,
): Promise<PromoteRecord> {
  const image = await cli.json<Record<string, unknown>>(["image", "show", req.imageId]);
  // The ID comes from the stack's state. An image of another random family is not this stack's any more (the
  // property was changed by hand); one of the name-derived families of earlier versions (or none) is the stack's
  // own image from before family IDs, and joins the family.
  const carried = imageField(image, FAMILY_PROPERTY);
  if (carried !== req.family) {
    if (!isEarlierFamily(carried)) {
      throw new Error(
        `image ${req.imageId} carries another family's ID (${FAMILY_PROPERTY}=${carried}, not ${req.family}): ` +
          "it is left alone. Was the property changed by hand? `pulumi up --replace <the image's URN>` uploads anew.",
      );
    }
    log(
      `image ${req.imageId} is this stack's (from its state) but carries ${carried === undefined ? "no family" : `the name-derived family ${String(carried)} of an earlier version`}: it joins family ${req.family}`,
    );
  }
  const algo = imageField(image, "os_hash_algo");
  const value = imageField(image, "os_hash_value");
  if (algo !== "sha512" || value !== req.sha512) {
    throw new Error(
      `Glance's hash of image ${req.imageId} (${String(algo ?? "no algorithm")}: ` +
        `${String(value ?? "none")}) is not the SHA-512 recorded when the image was built (${req.sha512}): the ` +
        "upload is not the file built. The image stays private and hidden; the next `pulumi up` checks it " +
        "again, and `pulumi up --replace <the image's URN>` uploads it anew.",
    );
  }
  log(`image ${req.imageId}: Glance's SHA-512 matches the one recorded at build time`);
  if (image.visibility === "shared" && req.visibility !== "shared") {
    // Members stay on an image that stops being shared (dormant, Glance no longer lists them) and would be back
    // with the next "shared": remove them while they can still be seen.
    for (const member of await removeMembers(cli, req.imageId, [])) {
      log(`removed member ${member} from image ${req.imageId}: it is no longer shared`);
    }
  }
  const properties = Object.entries(req.properties).flatMap(([key, v]) => ["--property", `${key}=${v}`]);
  // The first promotion makes it a generation, and its time orders the family; a later one keeps it.
  if (imageField(image, PROMOTED_PROPERTY) === undefined) {
    properties.push("--property", `${PROMOTED_PROPERTY}=${new Date().toISOString()}`);
  }
  await cli.text([
    ...["image", "set", "--min-ram", String(req.minRamMb), ...properties],
    ...[...visibilityArgs(req.visibility), "--unhidden", req.imageId],
  ]);
  // The record may be of the previous generation's image: only what this image carries is removed.
  const dropped = previousKeys(previous).filter(
    (key) => !(key in req.properties) && imageField(image, key) !== undefined,
  );
  if (dropped.length > 0) {
    await cli.text(["image", "unset", ...dropped.flatMap((key) => ["--property", key]), req.imageId]);
  }
  log(
    `image ${req.imageId} is now ${req.visibility}, with ${Object.keys(req.properties).length} properties and ` +
      `min_ram ${req.minRamMb} MiB${dropped.length > 0 ? `; ${dropped.join(", ")} removed` : ""}`,
  );
  return { properties: req.properties };
}
