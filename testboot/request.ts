// What the component hands the programs of testboot/ on stdin: one JSON document, a Pulumi secret (it holds the
// provider's password), so it is encrypted in the state and never appears in argv or the log.

export type Visibility = "private" | "shared" | "community" | "public";
const VISIBILITIES: Visibility[] = ["private", "shared", "community", "public"];

/** One region's upload of the build: the image and the provider settings that reach its Glance. */
export interface Upload {
  imageId: string;
  openstack: Record<string, string>;
}

export interface TestBootRequest {
  /** The user's stack and component, e.g. "nixos-cloud-image/prod-east/nixos": named in every resource made. */
  owner: string;
  /** Short hash of the family ID: the tag (and name part) that finds this stack's test resources, leftovers included. */
  tag: string;
  /** The family ID the uploads carry: a failed check deletes them only when they carry it. */
  family: string;
  /** Glance ID of the image to boot (the first of `uploads`). */
  imageId: string;
  /** The build's upload in every region: deleted when the check fails (they were never promoted). */
  uploads: Upload[];
  flavorName: string;
  networkName: string;
  sshSourceCidr: string;
  floatingIpPool?: string;
  /** Seconds from server create until SSH must accept the key. */
  timeout: number;
  /** Passed on to the verifier: `uname -r` the image must boot. */
  expectKernel?: string;
  /** Passed on to the verifier: files the image must hold. */
  expectFiles: string[];
  /** The stack's `openstack:*` settings, without the prefix (cloud, authUrl, password, ...). */
  openstack: Record<string, string>;
}

/** What promotion needs: the image, the SHA-512 the build recorded, the visibility and metadata to apply. */
export interface PromoteRequest {
  imageId: string;
  /** The family the image must carry. */
  family: string;
  /** SHA-512 of the built file, recorded when it was built: Glance's hash of the upload must be this. */
  sha512: string;
  visibility: Visibility;
  /** Every property the image must carry (standard, SCS, the family ID, the user's). */
  properties: Record<string, string>;
  minRamMb: number;
  openstack: Record<string, string>;
}

/** What rotation needs: the family, its newest generation, how many to keep, visibility and members. */
export interface GenerationsRequest {
  /** The family ID (nixos_cloud_image_family) that marks the family's images. */
  family: string;
  /** The newest generation: it stays visible. */
  imageId: string;
  keep: number;
  /** Applied to every kept generation (older ones stay hidden). */
  visibility: Visibility;
  /** Member projects; any other member of a generation is removed. */
  members: string[];
  /** An upload of the family older than this that never became a generation has failed. */
  uploadTimeoutMinutes: number;
  openstack: Record<string, string>;
}

/** What the family's end (destroy, a region removed) needs besides the family ID (the family Command's output). */
export interface FamilyRequest {
  /** An upload younger than this may still be under way: the family's end leaves it (marked). */
  uploadTimeoutMinutes: number;
  openstack: Record<string, string>;
}

/** Glance properties of this project's images; the component sets the family, the programs the others. */
export const FAMILY_PROPERTY = "nixos_cloud_image_family";
/** When the image became a generation (promoted): only promoted images count as generations. */
export const PROMOTED_PROPERTY = "nixos_cloud_image_promoted";
/** The test boot's verdict on these bytes: a later build of the same store path does not boot them again. */
export const VERIFIED_PROPERTY = "nixos_cloud_image_verified";
/** Set once an image was ever more than private: other projects may boot it. */
export const EXPOSED_PROPERTY = "nixos_cloud_image_exposed";
/** Left by a family's end on what it had to keep: no family adopts, hides or deletes it afterwards. */
export const ORPHANED_PROPERTY = "nixos_cloud_image_orphaned";

function fail(field: string, rule: string, value: unknown): never {
  throw new Error(
    `The request on stdin is not valid: "${field}" must be ${rule}; received ${JSON.stringify(value)}.`,
  );
}

const text = (doc: Record<string, unknown>, field: string): string => {
  const value = doc[field];
  if (typeof value !== "string" || value === "") fail(field, "a non-empty string", value);
  return value;
};

/** What every family ID starts with (earlier versions named families "project/stack/component"). */
export const FAMILY_ID_PREFIX = "nci-";
/** A family ID as the family Command makes them: anything else (a name-derived one several stacks share) is refused. */
export const FAMILY_ID = new RegExp(
  `^${FAMILY_ID_PREFIX}[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
);

function familyId(doc: Record<string, unknown>): string {
  if (!FAMILY_ID.test(text(doc, "family"))) fail("family", "a family ID (nci-<uuid>)", doc.family);
  return doc.family as string;
}

function wholeAtLeast(doc: Record<string, unknown>, field: string, min: number): number {
  const value = doc[field];
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    fail(field, `a whole number of at least ${min}`, value);
  }
  return value;
}

function stringMap(doc: Record<string, unknown>, field: string): Record<string, string> {
  const value = doc[field];
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(field, "an object", value);
  for (const v of Object.values(value)) if (typeof v !== "string") fail(field, "a map of strings", value);
  return value as Record<string, string>;
}

function stringList(doc: Record<string, unknown>, field: string): string[] {
  const value = doc[field] ?? [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v !== "")) {
    fail(field, "a list of non-empty strings", value);
  }
  return value as string[];
}

function visibility(doc: Record<string, unknown>): Visibility {
  const value = doc.visibility;
  if (!VISIBILITIES.includes(value as Visibility)) fail("visibility", VISIBILITIES.join(", "), value);
  return value as Visibility;
}

function object(raw: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    fail("stdin", "one JSON document", raw.length > 0 ? "(not JSON)" : "");
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) fail("stdin", "a JSON object", doc);
  return doc as Record<string, unknown>;
}

function uploads(doc: Record<string, unknown>): Upload[] {
  const value = doc.uploads;
  if (!Array.isArray(value) || value.length === 0) fail("uploads", "a non-empty list", value);
  return value.map((u: unknown) => {
    const upload = typeof u === "object" && u !== null ? (u as Record<string, unknown>) : {};
    return { imageId: text(upload, "imageId"), openstack: stringMap(upload, "openstack") };
  });
}

export function parseTestBootRequest(raw: string): TestBootRequest {
  const doc = object(raw);
  if (!/^[0-9a-f]{8,}$/.test(text(doc, "tag"))) fail("tag", "a hex string", doc.tag);
  return {
    owner: text(doc, "owner"),
    tag: doc.tag as string,
    family: familyId(doc),
    imageId: text(doc, "imageId"),
    uploads: uploads(doc),
    flavorName: text(doc, "flavorName"),
    networkName: text(doc, "networkName"),
    sshSourceCidr: text(doc, "sshSourceCidr"),
    ...(doc.floatingIpPool === undefined ? {} : { floatingIpPool: text(doc, "floatingIpPool") }),
    timeout: wholeAtLeast(doc, "timeout", 1),
    ...(doc.expectKernel === undefined ? {} : { expectKernel: text(doc, "expectKernel") }),
    expectFiles: stringList(doc, "expectFiles"),
    openstack: stringMap(doc, "openstack"),
  };
}

export function parsePromoteRequest(raw: string): PromoteRequest {
  const doc = object(raw);
  if (!/^[0-9a-f]{128}$/.test(text(doc, "sha512"))) fail("sha512", "128 hex digits", doc.sha512);
  return {
    imageId: text(doc, "imageId"),
    family: familyId(doc),
    sha512: doc.sha512 as string,
    visibility: visibility(doc),
    properties: stringMap(doc, "properties"),
    minRamMb: wholeAtLeast(doc, "minRamMb", 0),
    openstack: stringMap(doc, "openstack"),
  };
}

export function parseGenerationsRequest(raw: string): GenerationsRequest {
  const doc = object(raw);
  return {
    family: familyId(doc),
    imageId: text(doc, "imageId"),
    keep: wholeAtLeast(doc, "keep", 1),
    visibility: visibility(doc),
    members: stringList(doc, "members"),
    uploadTimeoutMinutes: wholeAtLeast(doc, "uploadTimeoutMinutes", 1),
    openstack: stringMap(doc, "openstack"),
  };
}

export function parseFamilyRequest(raw: string): FamilyRequest {
  const doc = object(raw);
  return {
    uploadTimeoutMinutes: wholeAtLeast(doc, "uploadTimeoutMinutes", 1),
    openstack: stringMap(doc, "openstack"),
  };
}
