// Every setting of the component, once: its rule (with the default it takes when not set and the message that
// names the key, the rule and the value), how Pulumi.yaml declares it, and what it means. resolveArgs
// (resolve.ts) checks by these entries, config.ts reads the stack's configuration by them, and `npm run settings`
// writes Pulumi.yaml's `config:` block and README's settings table from them (scripts/settings-docs.ts). A new
// setting is one entry here and its use.
import { existsSync } from "node:fs";
import * as v from "valibot";
import { REPLACE_FREQUENCIES, SYSTEMS, VISIBILITIES } from "./args.ts";
import type { NixosImageArgs, NixSystem, VerifyArgs } from "./args.ts";
import { BOOT_MODES } from "./imageInfo.ts";
import type { BootMode } from "./imageInfo.ts";
import { STANDARD_PROPERTIES } from "./properties.ts";
import { defaultSource } from "./source.ts";
import {
  boolean,
  check,
  isCidr,
  isConfigFile,
  isJump,
  nonEmptyString,
  nullsUnset,
  object,
  oneOf,
  at,
  removed,
  satisfies,
  stringMap,
  uniqueList,
  wholeIn,
} from "./rules.ts";
import type { Rule } from "./rules.ts";

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
export const PROJECT_ID = /^([0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
/** A Keystone region ID: no spaces, no slashes. */
const REGION_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Nix setting names: lower-case words joined by dashes. */
const NIX_OPTION_NAME = /^[a-z][a-z0-9-]*$/;

const isText = (x: unknown): x is string => typeof x === "string" && x.trim() !== "";

/** An http(s) URL, or a path that exists (relative paths are taken from the working directory). */
function isNixpkgsLocation(x: unknown): boolean {
  if (!isText(x)) return false;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(x)) return HTTP_URL.test(x);
  return existsSync(x);
}

/** One setting: its rule (a default inside it), how Pulumi.yaml declares it, what it means. */
export interface Setting<R extends Rule<unknown, unknown> = Rule<unknown, unknown>> {
  /** The rule, with v.optional around it (and the default it takes when not set). */
  rule: R;
  /** Pulumi.yaml's type; "string" settings are read as text, the others as JSON. None: an object or mixed. */
  type?: "boolean" | "integer" | "string" | "array";
  /** Why a setting has no type (a comment in Pulumi.yaml), when it is not an object. */
  untyped?: string;
  /** What it does when not set, in words, if the rule's default does not say it (none, or computed). */
  unset?: string;
  /** What the setting means, in Markdown: README's table and (without the backquotes) Pulumi.yaml. */
  about: string;
  /** What it means in the package (components/package/args.ts), where other languages write it differently. */
  packageAbout?: string;
}

const setting = <R extends Rule<any, unknown>>(s: Setting<R>) => s;

/** The test boot's own settings (`verify`), checked as one object; its request (stages/program/) reuses them. */
export const VERIFY_ENTRIES = {
  flavorName: nonEmptyString(),
  networkName: nonEmptyString(),
  sshSourceCidr: satisfies<string>('a CIDR such as "203.0.113.7/32" or "2001:db8::/64"', isCidr),
  floatingIpPool: v.optional(nonEmptyString()),
  timeout: v.optional(wholeIn(10, 3600, "seconds"), 600),
  configDrive: v.optional(boolean, false),
  requireHostKeyPin: v.optional(boolean, true),
  sshProxyJump: v.optional(satisfies<string>("[user@]host[:port], as ssh -J takes it", isJump)),
  sshJumpConfig: v.optional(
    satisfies<string>(
      "the absolute path of an existing file, in letters, digits and . _ / + -",
      (x) => isConfigFile(x) && existsSync(x as string),
    ),
  ),
  // The test server is ephemeral by design now: it exists only while the check runs.
  keepInstance: removed(
    "the test server and everything made for it are deleted when the check ends, so remove the key",
  ),
};
/** What each of the test boot's settings means (the package's VerifySettings descriptions are written from it). */
export const VERIFY_ABOUT: Record<Exclude<keyof typeof VERIFY_ENTRIES, "keepInstance">, string> = {
  flavorName: "Nova flavor of the test server",
  networkName: "Neutron network the test server is attached to",
  sshSourceCidr: 'the only CIDR allowed to reach tcp/22 of the test server, e.g. "203.0.113.7/32"',
  floatingIpPool:
    "external network to take a floating IP from, attached to the server's port and released when the check " +
    "ends. Default: none (the fixed IP is used)",
  timeout:
    "seconds from server create until SSH must accept the key; the checks run after that. Default: 600",
  configDrive:
    "true asks Nova for a config drive, which carries the key where the cloud has no metadata service. " +
    "Default: false (the cloud decides: the key comes through the metadata service unless Nova forces a drive)",
  requireHostKeyPin:
    "the check fails when the server's console shows no host key fingerprint to pin (the NixOS image prints " +
    "them), rather than trust the first key SSH is shown. Default: true",
  sshProxyJump:
    "a bastion, user@host[:port], that reaches the server's fixed IP (as ssh -J); the hop logs in as you do " +
    "(your ~/.ssh/config, agent and known_hosts, never prompting). Default: none",
  sshJumpConfig:
    "an OpenSSH client config file for the hop to sshProxyJump (its IdentityFile, UserKnownHostsFile, ...). " +
    "Default: your own ~/.ssh/config",
};
const VERIFY_KEYS = Object.keys(VERIFY_ENTRIES).filter((k) => k !== "keepInstance") as Exclude<
  keyof typeof VERIFY_ENTRIES,
  "keepInstance"
>[];

/** Keeps `keys` of an object, each present (undefined when not set); removed settings are dropped. */
const complete =
  <K extends string>(keys: readonly K[]) =>
  <T extends Partial<Record<K, unknown>>>(o: T): Pick<T, K> =>
    Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;

/** T with every key present; a key that was optional may hold undefined (a setting not set, no default). */
type Complete<T> = { [K in keyof Required<T>]: T[K] };

export const SETTINGS = {
  kernelLatest: setting({
    rule: v.optional(boolean, true),
    type: "boolean",
    about: "boot `linuxPackages_latest` (true) or the NixOS release's default `linuxPackages` (false)",
  }),
  diskSize: setting({
    rule: v.optional(
      satisfies<number | "auto">(
        `"auto" or a whole number of MiB from ${DISK_SIZE_MIN} to ${DISK_SIZE_MAX}`,
        (x) => x === "auto" || v.is(wholeIn(DISK_SIZE_MIN, DISK_SIZE_MAX, "MiB"), x),
      ),
      "auto",
    ),
    untyped: 'the value is either the text "auto" or an integer.',
    about:
      "raw disk size: `auto` (make-disk-image sizes it: the closure plus about 5 %, 1 GiB of room, and the " +
      "partition table and ESP) or MiB, 1024–2097152; Glance `min_disk` is derived from the size built",
    packageAbout:
      "raw disk size in MiB, a whole number from 1024 to 2097152; Glance min_disk is derived from the size " +
      "built. Default: unset, sized by the build (the closure plus about 1 GiB of room), as auto in stack config",
  }),
  system: setting({
    rule: v.optional(oneOf<NixSystem>(SYSTEMS)),
    type: "string",
    unset: "the machine's",
    about:
      "Nix system to build for: `x86_64-linux` or `aarch64-linux` (build it with a builder for it in `nixOptions`); Glance `architecture`",
  }),
  bootMode: setting({
    rule: v.optional(oneOf<BootMode>(BOOT_MODES)),
    type: "string",
    unset: "`bios` (`uefi` on aarch64)",
    about:
      "how the image boots: `bios`, `uefi` (Glance `hw_firmware_type=uefi`, and `hw_machine_type=q35` on x86_64) or `hybrid` " +
      "(boots with either)",
  }),
  channel: setting({
    rule: v.optional(
      satisfies<string>(
        'a channel name such as "nixos-25.11" or "nixos-unstable", or an http(s) URL of a channel',
        (x) => typeof x === "string" && (CHANNEL_NAME.test(x) || HTTP_URL.test(x)),
      ),
    ),
    type: "string",
    unset: "derived from `nixpkgs`",
    about:
      "the channel instances subscribe to for `nixos-rebuild`: a name (`nixos-25.11`, `nixos-unstable`) or a " +
      "URL; required when `nixpkgs` is a git checkout or GitHub tarball",
  }),
  nixpkgs: setting({
    rule: v.optional(
      satisfies<string>("an existing local path or an http(s) URL of a nixpkgs tarball", isNixpkgsLocation),
    ),
    type: "string",
    unset: "the pin (`nix/pin.nix`)",
    about: "the nixpkgs to build from: a local path or an http(s) tarball URL",
  }),
  source: setting({
    rule: v.optional(
      satisfies<string>("an existing Nix file or directory", (x) => isText(x) && existsSync(x)),
      defaultSource,
    ),
    type: "string",
    unset: "`nix/`",
    about: "the Nix expression to build (a directory or file with the same arguments)",
  }),
  imageName: setting({
    rule: v.optional(
      v.pipe(
        nonEmptyString("a non-empty string of at most 255 characters"),
        v.maxLength(255, "a non-empty string of at most 255 characters"),
      ),
    ),
    type: "string",
    unset: "`nixos-<version>-<store hash>`",
    about: "Glance name",
  }),
  // The default depends on members: see ARGS below.
  visibility: setting({
    rule: v.optional(oneOf(VISIBILITIES)),
    type: "string",
    unset: "`private` (`shared` with `members`)",
    about: "Glance visibility: `private`, `shared`, `community` or `public`; `shared` when `members` are set",
  }),
  properties: setting({
    rule: v.optional(
      stringMap("a map of string keys to string values", [
        {
          rule: "a key Glance does not reserve (not os_glance_*, os_hash_*, os_hidden)",
          refuses: (key) => RESERVED_PROPERTY.test(key) || key.trim() === "",
        },
        {
          rule: `a key the component does not set itself (not ${STANDARD_PROPERTIES.join(", ")})`,
          refuses: (key) => STANDARD_PROPERTIES.includes(key),
        },
      ]),
      {},
    ),
    about:
      "extra Glance properties (a map of strings); they may not set the standard ones (the component's list " +
      "is in `components/properties.ts`)",
  }),
  tags: setting({
    rule: v.optional(v.array(nonEmptyString(), "a list of non-empty strings"), []),
    type: "array",
    about: "Glance tags",
  }),
  keepGenerations: setting({
    rule: v.optional(wholeIn(1, 100, "generations"), 3),
    untyped: "a value that is not a whole number gets the component's message, which names the value.",
    about:
      "promoted generations kept in Glance, 1–100: the newest visible, the others hidden (still bootable by " +
      "UUID); older ones deleted unless they must stay (Glance `uuid_validity=last-N`)",
  }),
  minRamMb: setting({
    rule: v.optional(wholeIn(64, 4194304, "MiB"), 512),
    type: "integer",
    about: "Glance `min_ram`: MiB of memory a server needs to boot the image, 64 or more",
  }),
  replaceFrequency: setting({
    rule: v.optional(oneOf(REPLACE_FREQUENCIES), "never"),
    type: "string",
    about:
      "Glance `replace_frequency` (SCS): `yearly`, `quarterly`, `monthly`, `weekly`, `daily`, " +
      "`critical_bug` or `never`",
  }),
  members: setting({
    rule: v.optional(uniqueList("a Keystone project ID (32 hex digits)", PROJECT_ID), []),
    type: "array",
    about: "project IDs (32 hex digits, or UUIDs) each new generation is shared with (Glance members)",
  }),
  memberClouds: setting({
    rule: v.optional(
      stringMap("a map of member project IDs to cloud names in clouds.yaml", [], nonEmptyString()),
      {},
    ),
    about:
      "member project ID → a cloud in clouds.yaml with that project's credentials: the share is accepted there",
  }),
  regions: setting({
    rule: v.optional(uniqueList('a Keystone region ID such as "RegionOne"', REGION_ID), []),
    type: "array",
    unset: "the provider's",
    about: "regions of the cloud to publish each build to, in parallel, e.g. `[RegionOne, RegionTwo]`",
  }),
  nixOptions: setting({
    rule: v.optional(
      stringMap("a map of Nix setting names to string values", [
        {
          rule: 'a Nix setting name like "builders" or "extra-substituters"',
          refuses: (key) => !NIX_OPTION_NAME.test(key),
        },
      ]),
      {},
    ),
    about:
      "Nix settings passed as `--option NAME VALUE` (`builders`, `extra-substituters`, " +
      "`extra-trusted-public-keys`, `max-jobs`, ...)",
  }),
  buildTimeoutMinutes: setting({
    rule: v.optional(wholeIn(1, 10080, "minutes"), 120),
    type: "integer",
    about: "minutes nix-build may run before it is killed",
  }),
  uploadTimeoutMinutes: setting({
    rule: v.optional(wholeIn(1, 1440, "minutes"), 30),
    type: "integer",
    about: "minutes the upload to Glance may take, until the image is `active`",
  }),
  verify: setting({
    rule: v.optional(
      v.pipe(
        object(VERIFY_ENTRIES, "an object with flavorName, networkName and sshSourceCidr", true),
        v.rawCheck(({ dataset, addIssue }) => {
          if (!dataset.typed) return;
          const { floatingIpPool, sshProxyJump, sshJumpConfig } = dataset.value;
          // Two ways to reach the server: through a bastion to its fixed IP, or directly at a floating IP.
          if (sshProxyJump !== undefined && floatingIpPool !== undefined)
            at(
              addIssue,
              ["sshProxyJump"],
              "unset when floatingIpPool is set (the bastion reaches the fixed IP)",
              sshProxyJump,
            );
          if (sshJumpConfig !== undefined && sshProxyJump === undefined)
            at(
              addIssue,
              ["sshJumpConfig"],
              "unset unless sshProxyJump is set (it configures the hop)",
              sshJumpConfig,
            );
        }),
        v.transform(complete(VERIFY_KEYS)),
      ),
    ),
    unset: "off",
    about:
      "`{flavorName, networkName, sshSourceCidr, floatingIpPool?, sshProxyJump?, sshJumpConfig?, configDrive? " +
      "(false), requireHostKeyPin? (true), timeout? (600 s)}`: a test boot of each new " +
      "image before `visibility` is applied; the server and everything made for it are deleted when the check " +
      "ends (*Verification*)",
    packageAbout:
      "a test boot of each new image before visibility is applied: SSH as nixos with the instance key, " +
      "passwordless sudo, root refused; the server and everything made for it are deleted when the check " +
      "ends. Default: off",
  }),
};

export type SettingKey = keyof typeof SETTINGS;

const SETTING_RULES = Object.fromEntries(Object.entries(SETTINGS).map(([k, s]) => [k, s.rule])) as {
  [K in SettingKey]: (typeof SETTINGS)[K]["rule"];
};

/** Settings that no longer exist: any value is refused with how to migrate (config.ts reads them for that). */
const REMOVED_ENTRIES = {
  retainOldImages: removed(
    "keepGenerations (default 3) replaces it, keeping the newest N generations in Glance, older ones " +
      "hidden, and deleting the rest unless a server uses them. Remove the key " +
      "(`pulumi config rm retainOldImages`) and set keepGenerations if 3 does not suit; images it kept " +
      "before are not part of a generation family and stay until you delete them",
  ),
};
export const REMOVED_SETTINGS = Object.keys(REMOVED_ENTRIES);

/**
 * Every argument of the component: the settings, each by its rule, the removed ones, and the rules between
 * settings (they run once each setting passed its own).
 */
const ARGS_ENTRIES = { ...SETTING_RULES, ...REMOVED_ENTRIES };
const ARGS = v.pipe(
  object(ARGS_ENTRIES, "an object"),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const { system, bootMode, members, visibility, memberClouds } = dataset.value;
    if (system === "aarch64-linux" && bootMode !== undefined && bootMode !== "uefi") {
      at(addIssue, ["bootMode"], 'uefi for system "aarch64-linux" (it has no BIOS)', bootMode);
    }
    // Glance has members only for "shared" images, which is why visibility defaults to "shared" with members.
    if (members.length > 0 && visibility !== undefined && visibility !== "shared") {
      const rule = '"shared" when members are set (Glance has members only for shared images)';
      at(addIssue, ["visibility"], rule, visibility);
    }
    for (const project of Object.keys(memberClouds)) {
      if (!members.includes(project)) {
        at(addIssue, ["memberClouds", project], "a project listed in members", project);
      }
    }
  }),
  v.transform((args) => ({
    ...(complete(Object.keys(SETTINGS) as SettingKey[])(args) as Complete<
      Omit<typeof args, keyof typeof REMOVED_ENTRIES>
    >),
    visibility: args.visibility ?? (args.members.length > 0 ? "shared" : "private"),
  })),
);

/** NixosImageArgs after validation, with every default filled in. */
export type ResolvedArgs = v.InferOutput<typeof ARGS>;

// The component's argument types are plain interfaces (Pulumi's schema inference reads them); they must be
// exactly what the rules accept, or tsc fails here.
type Flat<T> = T extends (infer I)[] ? Flat<I>[] : T extends object ? { [K in keyof T]: Flat<T[K]> } : T;
type Same<A, B> =
  (<T>() => T extends Flat<A> ? 1 : 2) extends <T>() => T extends Flat<B> ? 1 : 2 ? true : false;
const argsMatch: Same<v.InferInput<typeof ARGS>, NixosImageArgs> = true;
const verifyMatch: Same<v.InferInput<typeof SETTINGS.verify.rule>, VerifyArgs | undefined> = true;
void [argsMatch, verifyMatch];

/** Checks every argument by its rule and fills in defaults: the resolved arguments, or the first refusal. */
export function checkArgs(args: NixosImageArgs) {
  const given = nullsUnset(args, ARGS_ENTRIES) as NixosImageArgs;
  if (given?.verify) given.verify = nullsUnset(given.verify, VERIFY_ENTRIES) as VerifyArgs;
  return check(ARGS, given);
}
