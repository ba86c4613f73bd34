// What the component hands the stages' program (stages/*/run.ts) on stdin: one JSON document per stage, a Pulumi
// secret (it holds the provider's password), so it is encrypted in the state and never appears in argv or the
// log. The documents are defined here once: the component types what it writes by them, the program checks
// what it reads by them, and a field that carries a setting is checked by that setting's own rule.
import * as v from "valibot";
import { check, matching, nonEmptyString, object, stringMap } from "../../components/rules.ts";
import { SETTINGS, VERIFY_ENTRIES } from "../../components/settings.ts";
import { FAMILY_ID } from "./marks.ts";

const text = nonEmptyString();
/** The stack's `openstack:*` settings, without the prefix (cloud, authUrl, password, ...). */
const openstack = stringMap("a map of strings");
/** The family ID (nixos_cloud_image_family) that marks the family's images. */
const family = v.pipe(text, v.regex(FAMILY_ID, "a family ID (nci-<uuid>)"));
// A field that carries a setting has the setting's rule without its default (v.unwrap): the component always
// writes the value it resolved.

/** One region's upload of the build: the image and the provider settings that reach its Glance. */
const UPLOAD = object({ imageId: text, openstack }, "an object with imageId and openstack");

const TEST_BOOT_REQUEST = object(
  {
    /** The user's stack and component, e.g. "nixos-cloud-image/prod-east/nixos": named in every resource made. */
    owner: text,
    /** Short hash of the family ID: the tag (and name part) that finds this stack's test resources, leftovers included. */
    tag: matching(/^[0-9a-f]{8,}$/, "a hex string"),
    /** The family ID the uploads carry: a failed check deletes them only when they carry it. */
    family,
    /** Glance ID of the image to boot (the first of `uploads`). */
    imageId: text,
    /** The build's upload in every region: deleted when the check fails (they were never promoted). */
    uploads: v.pipe(v.array(UPLOAD, "a non-empty list"), v.minLength(1, "a non-empty list")),
    flavorName: VERIFY_ENTRIES.flavorName,
    networkName: VERIFY_ENTRIES.networkName,
    sshSourceCidr: VERIFY_ENTRIES.sshSourceCidr,
    floatingIpPool: VERIFY_ENTRIES.floatingIpPool,
    sshProxyJump: VERIFY_ENTRIES.sshProxyJump,
    sshJumpConfig: VERIFY_ENTRIES.sshJumpConfig,
    /** Seconds from server create until SSH must accept the key. */
    timeout: v.unwrap(VERIFY_ENTRIES.timeout),
    configDrive: v.unwrap(VERIFY_ENTRIES.configDrive),
    requireHostKeyPin: v.unwrap(VERIFY_ENTRIES.requireHostKeyPin),
    /** Passed on to the verifier: `uname -r` the image must boot. */
    expectKernel: v.optional(text),
    /** Passed on to the verifier: files the image must hold. */
    expectFiles: v.optional(v.array(text, "a list of non-empty strings"), []),
    openstack,
  },
  "a JSON object",
);

/** What promotion needs: the image, the SHA-512 the build recorded, the visibility and metadata to apply. */
const PROMOTE_REQUEST = object(
  {
    imageId: text,
    /** The family the image must carry. */
    family,
    /** SHA-512 of the built file, recorded when it was built: Glance's hash of the upload must be this. */
    sha512: matching(/^[0-9a-f]{128}$/, "128 hex digits"),
    visibility: v.unwrap(SETTINGS.visibility.rule),
    /** Every property the image must carry (standard, SCS, the family ID, the user's). */
    properties: stringMap("a map of strings"),
    minRamMb: v.unwrap(SETTINGS.minRamMb.rule),
    openstack,
  },
  "a JSON object",
);

/** What rotation needs: the family, its newest generation, how many to keep, visibility and members. */
const GENERATIONS_REQUEST = object(
  {
    family,
    /** The newest generation: it stays visible. */
    imageId: text,
    keep: v.unwrap(SETTINGS.keepGenerations.rule),
    /** Applied to every kept generation (older ones stay hidden). */
    visibility: v.unwrap(SETTINGS.visibility.rule),
    /** Member projects; any other member of a generation is removed. */
    members: v.unwrap(SETTINGS.members.rule),
    /** An upload of the family older than this that never became a generation has failed. */
    uploadTimeoutMinutes: v.unwrap(SETTINGS.uploadTimeoutMinutes.rule),
    openstack,
  },
  "a JSON object",
);

/** What the family's end (destroy, a region removed) needs besides the family ID (the family Command's output). */
const FAMILY_REQUEST = object(
  {
    /** An upload younger than this may still be under way: the family's end leaves it (marked). */
    uploadTimeoutMinutes: v.unwrap(SETTINGS.uploadTimeoutMinutes.rule),
    openstack,
  },
  "a JSON object",
);

export type Upload = v.InferOutput<typeof UPLOAD>;
export type TestBootRequest = v.InferOutput<typeof TEST_BOOT_REQUEST>;
export type PromoteRequest = v.InferOutput<typeof PROMOTE_REQUEST>;
export type GenerationsRequest = v.InferOutput<typeof GENERATIONS_REQUEST>;
export type FamilyRequest = v.InferOutput<typeof FAMILY_REQUEST>;

function fail(field: string, rule: string, value: unknown): never {
  throw new Error(
    `The request on stdin is not valid: "${field}" must be ${rule}; received ${JSON.stringify(value)}.`,
  );
}

/** One JSON document on stdin, as `schema` says. */
function parse<T>(schema: v.GenericSchema<unknown, T>, raw: string): T {
  let doc: unknown;
  try {
    doc = JSON.parse(raw);
  } catch {
    fail("stdin", "one JSON document", raw.length > 0 ? "(not JSON)" : "");
  }
  const result = check(schema, doc);
  if (!result.ok) fail(result.refusal.key || "stdin", result.refusal.rule, result.refusal.value);
  return result.value;
}

export const parseTestBootRequest = (raw: string) => parse(TEST_BOOT_REQUEST, raw);
export const parsePromoteRequest = (raw: string) => parse(PROMOTE_REQUEST, raw);
export const parseGenerationsRequest = (raw: string) => parse(GENERATIONS_REQUEST, raw);
export const parseFamilyRequest = (raw: string) => parse(FAMILY_REQUEST, raw);
