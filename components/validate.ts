import { existsSync } from "node:fs";
import { isIP } from "node:net";
import * as pulumi from "@pulumi/pulumi";
import { defaultSource } from "./source.ts";
import { REPLACE_FREQUENCIES, SYSTEMS, VISIBILITIES } from "./args.ts";
import type { NixosImageArgs, NixSystem, ResolvedArgs, VerifyArgs } from "./args.ts";
import { BOOT_MODES } from "./imageInfo.ts";
import type { BootMode } from "./imageInfo.ts";
import { STANDARD_PROPERTIES } from "./properties.ts";

/** Bounds of an explicit diskSize in MiB; nix/default.nix asserts the same ones for direct nix-build users. */
export const DISK_SIZE_MIN = 1024;
export const DISK_SIZE_MAX = 2097152;
/** An http(s) URL with a host and a path. */
const HTTP_URL = /^https?:\/\/[^/\s]+\/\S*$/i;
/** A channel name as on https://nixos.org/channels (nix/args.nix has the same rule). */
const CHANNEL_NAME = /^nixos-(unstable|\d\d\.\d\d)(-small)?$/;

/** Glance refuses these property names: it sets them itself. */
const RESERVED_PROPERTY = /^(os_glance_.*|os_hash_algo|os_hash_value|os_hidden)$/;
/** A Keystone project ID: 32 hex digits (Keystone's own), or a UUID with dashes (some identity backends). */
const PROJECT_ID = /^([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
/** A Keystone region ID: no spaces, no slashes. */
const REGION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Nix setting names: lower-case words joined by dashes. */
const NIX_OPTION_NAME = /^[a-z][a-z0-9-]*$/;

/**
 * Raised for any argument that breaks a rule; the message names the setting, the rule and the value. A RunError,
 * so `pulumi up` prints just the message, without a stack trace.
 */
export class InvalidArgumentError extends pulumi.RunError {
  constructor(setting: string, rule: string, value: unknown) {
    super(`The "${setting}" setting must be ${rule}; received ${show(value)}.`);
    this.name = "InvalidArgumentError";
    // No stack frames: Pulumi's runner still formats them (for its trace), and mapping the frames in @pulumi's
    // code through its source maps took 20 s and 3 GiB (measured); the message says everything.
    this.stack = `${this.name}: ${this.message}`;
  }
}

function show(value: unknown): string {
  if (value === undefined) return "nothing";
  const json = JSON.stringify(value);
  return json === undefined ? String(value) : json;
}

/** Reads one optional setting: undefined gives the default, anything else must pass the check. */
function optional<T>(
  value: unknown,
  setting: string,
  rule: string,
  check: (v: unknown) => boolean,
  fallback: T,
): T {
  if (value === undefined || value === null) return fallback;
  if (!check(value)) throw new InvalidArgumentError(setting, rule, value);
  return value as T;
}

/** Reads one optional setting that must be one of `values`. */
function optionalOneOf<T extends string, F extends T | undefined>(
  value: unknown,
  setting: string,
  values: readonly T[],
  fallback: F,
): T | F {
  return optional<T | F>(
    value,
    setting,
    `one of ${values.join(", ")}`,
    (v) => (values as readonly unknown[]).includes(v),
    fallback,
  );
}

const isBoolean = (v: unknown) => typeof v === "boolean";
const isNonEmptyString = (v: unknown) => typeof v === "string" && v.trim() !== "";
const isWholeIn = (min: number, max: number) => (v: unknown) =>
  typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
const isStringMap = (v: unknown) =>
  typeof v === "object" &&
  v !== null &&
  !Array.isArray(v) &&
  Object.values(v).every((x) => typeof x === "string");

/** True for "a.b.c.d/n" (n ≤ 32) or an IPv6 address with a prefix length ≤ 128. */
export function isCidr(value: unknown): boolean {
  if (typeof value !== "string") return false;
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(value);
  if (!match) return false;
  const version = isIP(match[1]);
  const prefix = Number(match[2]);
  return (version === 4 && prefix <= 32) || (version === 6 && prefix <= 128);
}

/** An http(s) URL, or a path that exists (relative paths are taken from the working directory). */
function isNixpkgsLocation(v: unknown): boolean {
  if (!isNonEmptyString(v)) return false;
  const s = v as string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return HTTP_URL.test(s);
  return existsSync(s);
}

/**
 * Checks every argument and fills in defaults. Runs before any child resource exists, so a bad value
 * never leaves anything half-created. `prefix` names where the settings come from (e.g. a config namespace).
 */
export function resolveArgs(args: NixosImageArgs, prefix = ""): ResolvedArgs {
  if (typeof args !== "object" || args === null) {
    throw new InvalidArgumentError(prefix || "args", "an object", args);
  }
  const at = (field: string) => `${prefix}${field}`;
  const properties = optional<Record<string, string>>(
    args.properties,
    at("properties"),
    "a map of string keys to string values",
    isStringMap,
    {},
  );
  for (const key of Object.keys(properties)) {
    if (RESERVED_PROPERTY.test(key) || key.trim() === "") {
      throw new InvalidArgumentError(
        at(`properties.${key}`),
        "a key Glance does not reserve (not os_glance_*, os_hash_*, os_hidden)",
        key,
      );
    }
    if (STANDARD_PROPERTIES.includes(key)) {
      throw new InvalidArgumentError(
        at(`properties.${key}`),
        `a key the component does not set itself (not ${STANDARD_PROPERTIES.join(", ")})`,
        key,
      );
    }
  }
  if (args.retainOldImages !== undefined && args.retainOldImages !== null) {
    throw new InvalidArgumentError(
      at("retainOldImages"),
      "removed: keepGenerations (default 3) replaces it, keeping the newest N generations in Glance, older ones " +
        "hidden, and deleting the rest unless a server uses them. Remove the key " +
        "(`pulumi config rm retainOldImages`) and set keepGenerations if 3 does not suit; images it kept before " +
        "are not part of a generation family and stay until you delete them",
      args.retainOldImages,
    );
  }
  const nixOptions = optional<Record<string, string>>(
    args.nixOptions,
    at("nixOptions"),
    "a map of Nix setting names to string values",
    isStringMap,
    {},
  );
  for (const key of Object.keys(nixOptions)) {
    if (!NIX_OPTION_NAME.test(key)) {
      throw new InvalidArgumentError(
        at(`nixOptions.${key}`),
        'a Nix setting name like "builders" or "extra-substituters"',
        key,
      );
    }
  }
  return {
    kernelLatest: optional(
      args.kernelLatest,
      at("kernelLatest"),
      "a boolean (true or false)",
      isBoolean,
      true,
    ),
    diskSize: optional<number | "auto">(
      args.diskSize,
      at("diskSize"),
      `"auto" or a whole number of MiB from ${DISK_SIZE_MIN} to ${DISK_SIZE_MAX}`,
      (v) => v === "auto" || isWholeIn(DISK_SIZE_MIN, DISK_SIZE_MAX)(v),
      "auto",
    ),
    ...resolvePlatform(args, at),
    channel: optional<string | undefined>(
      args.channel,
      at("channel"),
      'a channel name such as "nixos-25.11" or "nixos-unstable", or an http(s) URL of a channel',
      (v) => typeof v === "string" && (CHANNEL_NAME.test(v) || HTTP_URL.test(v)),
      undefined,
    ),
    nixpkgs: optional<string | undefined>(
      args.nixpkgs,
      at("nixpkgs"),
      "an existing local path or an http(s) URL of a nixpkgs tarball",
      isNixpkgsLocation,
      undefined,
    ),
    source: optional(
      args.source,
      at("source"),
      "an existing Nix file or directory",
      (v) => isNonEmptyString(v) && existsSync(v as string),
      defaultSource(),
    ),
    imageName: optional<string | undefined>(
      args.imageName,
      at("imageName"),
      "a non-empty string of at most 255 characters",
      (v) => isNonEmptyString(v) && (v as string).length <= 255,
      undefined,
    ),
    properties,
    tags: optional<string[]>(
      args.tags,
      at("tags"),
      "a list of non-empty strings",
      (v) => Array.isArray(v) && v.every(isNonEmptyString),
      [],
    ),
    keepGenerations: optional(
      args.keepGenerations,
      at("keepGenerations"),
      "a whole number of generations from 1 to 100",
      isWholeIn(1, 100),
      3,
    ),
    replaceFrequency: optionalOneOf(
      args.replaceFrequency,
      at("replaceFrequency"),
      REPLACE_FREQUENCIES,
      "never",
    ),
    minRamMb: optional(
      args.minRamMb,
      at("minRamMb"),
      "a whole number of MiB from 64 to 4194304",
      isWholeIn(64, 4194304),
      512,
    ),
    ...resolveSharing(args, at),
    regions: uniqueList(args.regions, at("regions"), 'a Keystone region ID such as "RegionOne"', REGION_ID),
    nixOptions,
    buildTimeoutMinutes: optional(
      args.buildTimeoutMinutes,
      at("buildTimeoutMinutes"),
      "a whole number of minutes from 1 to 10080",
      isWholeIn(1, 10080),
      120,
    ),
    uploadTimeoutMinutes: optional(
      args.uploadTimeoutMinutes,
      at("uploadTimeoutMinutes"),
      "a whole number of minutes from 1 to 1440",
      isWholeIn(1, 1440),
      30,
    ),
    verify:
      args.verify === undefined || args.verify === null
        ? undefined
        : resolveVerify(args.verify, at("verify.")),
  };
}

/** A list of distinct strings that each match `pattern` (each is `what`); undefined gives the empty list. */
function uniqueList(value: unknown, setting: string, what: string, pattern: RegExp): string[] {
  const list = optional<unknown[]>(value, setting, `a list, each item ${what}`, Array.isArray, []);
  list.forEach((item, i) => {
    if (typeof item !== "string" || !pattern.test(item)) {
      throw new InvalidArgumentError(`${setting}[${i}]`, what, item);
    }
    if (list.indexOf(item) !== i) {
      throw new InvalidArgumentError(`${setting}[${i}]`, `${what}, each listed once`, item);
    }
  });
  return list as string[];
}

/**
 * members, memberClouds and visibility, which must fit together: Glance has members only for "shared" images,
 * which is why visibility defaults to "shared" when members are set.
 */
function resolveSharing(args: NixosImageArgs, at: (field: string) => string) {
  const members = uniqueList(
    args.members,
    at("members"),
    "a Keystone project ID (32 hex digits)",
    PROJECT_ID,
  );
  const visibility = optionalOneOf(
    args.visibility,
    at("visibility"),
    VISIBILITIES,
    members.length > 0 ? "shared" : "private",
  );
  if (members.length > 0 && visibility !== "shared") {
    throw new InvalidArgumentError(
      at("visibility"),
      '"shared" when members are set (Glance has members only for shared images)',
      visibility,
    );
  }
  const memberClouds = optional<Record<string, string>>(
    args.memberClouds,
    at("memberClouds"),
    "a map of member project IDs to cloud names in clouds.yaml",
    (v) => isStringMap(v) && Object.values(v as object).every(isNonEmptyString),
    {},
  );
  for (const project of Object.keys(memberClouds)) {
    if (!members.includes(project)) {
      throw new InvalidArgumentError(at(`memberClouds.${project}`), "a project listed in members", project);
    }
  }
  return { visibility, members, memberClouds };
}

/** system and bootMode, which must fit together: aarch64 has no BIOS. */
function resolvePlatform(args: NixosImageArgs, at: (field: string) => string) {
  const system = optionalOneOf<NixSystem, undefined>(args.system, at("system"), SYSTEMS, undefined);
  const bootMode = optionalOneOf<BootMode, undefined>(args.bootMode, at("bootMode"), BOOT_MODES, undefined);
  if (system === "aarch64-linux" && bootMode !== undefined && bootMode !== "uefi") {
    throw new InvalidArgumentError(
      at("bootMode"),
      'uefi for system "aarch64-linux" (it has no BIOS)',
      bootMode,
    );
  }
  return { system, bootMode };
}

/** The keys of `verify`; anything else is a typo or a setting that no longer exists. */
const VERIFY_KEYS = ["flavorName", "networkName", "sshSourceCidr", "floatingIpPool", "timeout"];

function resolveVerify(verify: VerifyArgs, prefix: string): ResolvedArgs["verify"] {
  if (typeof verify !== "object" || verify === null || Array.isArray(verify)) {
    throw new InvalidArgumentError(
      prefix.slice(0, -1),
      "an object with flavorName, networkName and sshSourceCidr",
      verify,
    );
  }
  if ("keepInstance" in verify) {
    // The test server is ephemeral by design now: it exists only while the check runs.
    throw new InvalidArgumentError(
      prefix + "keepInstance",
      "removed: the test server and everything made for it are deleted when the check ends, so remove the key",
      (verify as Record<string, unknown>).keepInstance,
    );
  }
  for (const key of Object.keys(verify)) {
    if (!VERIFY_KEYS.includes(key)) {
      throw new InvalidArgumentError(prefix + key, `one of the known keys (${VERIFY_KEYS.join(", ")})`, key);
    }
  }
  const required = (field: "flavorName" | "networkName") => {
    if (!isNonEmptyString(verify[field]))
      throw new InvalidArgumentError(prefix + field, "a non-empty string", verify[field]);
    return verify[field];
  };
  if (!isCidr(verify.sshSourceCidr)) {
    throw new InvalidArgumentError(
      prefix + "sshSourceCidr",
      'a CIDR such as "203.0.113.7/32" or "2001:db8::/64"',
      verify.sshSourceCidr,
    );
  }
  return {
    flavorName: required("flavorName"),
    networkName: required("networkName"),
    sshSourceCidr: verify.sshSourceCidr,
    floatingIpPool: optional<string | undefined>(
      verify.floatingIpPool,
      prefix + "floatingIpPool",
      "a non-empty string",
      isNonEmptyString,
      undefined,
    ),
    timeout: optional(
      verify.timeout,
      prefix + "timeout",
      "a whole number of seconds from 10 to 3600",
      isWholeIn(10, 3600),
      600,
    ),
  };
}
