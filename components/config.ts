import * as pulumi from "@pulumi/pulumi";
import type { NixosImageArgs } from "./args.ts";
import { InvalidArgumentError } from "./validate.ts";

/** Settings that no longer exist: read only so that validation can say how to migrate. */
const REMOVED_SETTINGS = { retainOldImages: "json" } as const;

/** The stack settings this project reads, with whether each is JSON (booleans, numbers, objects) or text. */
export const SETTINGS: Record<
  Exclude<keyof NixosImageArgs, keyof typeof REMOVED_SETTINGS>,
  "json" | "text"
> = {
  kernelLatest: "json",
  diskSize: "json",
  system: "text",
  bootMode: "text",
  channel: "text",
  nixpkgs: "text",
  source: "text",
  imageName: "text",
  visibility: "text",
  properties: "json",
  tags: "json",
  keepGenerations: "json",
  replaceFrequency: "text",
  minRamMb: "json",
  members: "json",
  memberClouds: "json",
  regions: "json",
  nixOptions: "json",
  buildTimeoutMinutes: "json",
  uploadTimeoutMinutes: "json",
  verify: "json",
};

/**
 * Reads the image settings from stack configuration under `namespace:`. Values are returned as typed
 * as the YAML gave them; resolveArgs checks them. An unknown key is an error: a typo such as
 * `kernelLatst` would otherwise be ignored silently.
 */
export function argsFromConfig(namespace: string): NixosImageArgs {
  const config = new pulumi.Config(namespace);
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    const [ns, key] = fullKey.split(":", 2);
    if (ns === namespace && !(key in SETTINGS) && !(key in REMOVED_SETTINGS)) {
      throw new InvalidArgumentError(
        fullKey,
        `one of the known settings (${Object.keys(SETTINGS).join(", ")})`,
        key,
      );
    }
  }
  const args: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries({ ...SETTINGS, ...REMOVED_SETTINGS })) {
    const raw = config.get(key);
    const value = raw === undefined ? undefined : kind === "text" ? raw : parseJson(raw);
    if (!isUnset(value)) args[key] = value;
  }
  return args as NixosImageArgs;
}

/**
 * Pulumi.yaml gives optional keys the defaults "" and {} (Pulumi requires a default for any declared key that
 * is not mandatory): those mean "not set".
 */
function isUnset(value: unknown): boolean {
  if (value === undefined || value === "") return true;
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0
  );
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    // Pulumi stores a YAML scalar it could not type (e.g. `diskSize: big`) as text: report it as such.
    return raw;
  }
}
