// What the component hands the test boot on stdin: one JSON document, a Pulumi secret (it holds the provider's
// password), so it is encrypted in the state and never appears in argv or the log.

export interface TestBootRequest {
  /** The user's stack and component, e.g. "nixos-cloud-image/prod-east/nixos": named in every resource made. */
  owner: string;
  /** Short hash of `owner`: the tag (and name part) that finds this stack's test resources, leftovers included. */
  tag: string;
  /** Glance ID of the image to boot. */
  imageId: string;
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

/** What promotion needs: the image, the built file it must match, the visibility to apply, the provider settings. */
export interface PromoteRequest {
  imageId: string;
  /** The built file: Glance's SHA-512 of the upload must be this file's. */
  file: string;
  visibility: "private" | "shared" | "community" | "public";
  openstack: Record<string, string>;
}

function fail(field: string, rule: string, value: unknown): never {
  throw new Error(
    `The test boot's request is not valid: "${field}" must be ${rule}; received ${JSON.stringify(value)}.`,
  );
}

const text = (doc: Record<string, unknown>, field: string): string => {
  const value = doc[field];
  if (typeof value !== "string" || value === "") fail(field, "a non-empty string", value);
  return value;
};

function stringMap(doc: Record<string, unknown>, field: string): Record<string, string> {
  const value = doc[field];
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(field, "an object", value);
  for (const v of Object.values(value)) if (typeof v !== "string") fail(field, "a map of strings", value);
  return value as Record<string, string>;
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

export function parseTestBootRequest(raw: string): TestBootRequest {
  const doc = object(raw);
  const timeout = doc.timeout;
  if (typeof timeout !== "number" || !Number.isInteger(timeout) || timeout <= 0) {
    fail("timeout", "a positive whole number of seconds", timeout);
  }
  if (!/^[0-9a-f]{8,}$/.test(text(doc, "tag"))) fail("tag", "a hex string", doc.tag);
  const files = doc.expectFiles ?? [];
  if (!Array.isArray(files) || !files.every((f) => typeof f === "string")) {
    fail("expectFiles", "a list of paths", files);
  }
  return {
    owner: text(doc, "owner"),
    tag: doc.tag as string,
    imageId: text(doc, "imageId"),
    flavorName: text(doc, "flavorName"),
    networkName: text(doc, "networkName"),
    sshSourceCidr: text(doc, "sshSourceCidr"),
    ...(doc.floatingIpPool === undefined ? {} : { floatingIpPool: text(doc, "floatingIpPool") }),
    timeout,
    ...(doc.expectKernel === undefined ? {} : { expectKernel: text(doc, "expectKernel") }),
    expectFiles: files as string[],
    openstack: stringMap(doc, "openstack"),
  };
}

export function parsePromoteRequest(raw: string): PromoteRequest {
  const doc = object(raw);
  const visibility = doc.visibility;
  if (!["private", "shared", "community", "public"].includes(visibility as string)) {
    fail("visibility", "private, shared, community or public", visibility);
  }
  return {
    imageId: text(doc, "imageId"),
    file: text(doc, "file"),
    visibility: visibility as PromoteRequest["visibility"],
    openstack: stringMap(doc, "openstack"),
  };
}

/** The Glance property that marks a family's images: the component sets it, rotation lists by it. */
export const FAMILY_PROPERTY = "nixos_cloud_image_family";

/** What rotation needs: the family, its newest generation, how many to keep and who may stay a member. */
export interface GenerationsRequest {
  /** The value of the nixos_cloud_image_family property that marks the family's images. */
  family: string;
  /** The newest generation: it stays visible. */
  imageId: string;
  keep: number;
  /** Member projects; any other member of a generation is removed. */
  members: string[];
  openstack: Record<string, string>;
}

export function parseGenerationsRequest(raw: string): GenerationsRequest {
  const doc = object(raw);
  const keep = doc.keep;
  if (typeof keep !== "number" || !Number.isInteger(keep) || keep < 1) {
    fail("keep", "a whole number of generations, at least 1", keep);
  }
  const members = doc.members;
  if (!Array.isArray(members) || !members.every((m) => typeof m === "string" && m !== "")) {
    fail("members", "a list of project IDs", members);
  }
  return {
    family: text(doc, "family"),
    imageId: text(doc, "imageId"),
    keep,
    members: members as string[],
    openstack: stringMap(doc, "openstack"),
  };
}
