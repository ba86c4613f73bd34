import * as pulumi from "@pulumi/pulumi";
import type { NixosImageArgs } from "./args.ts";
import { InvalidArgumentError } from "./resolve.ts";
import { REMOVED_SETTINGS, SETTINGS } from "./settings.ts";

/**
 * Reads the image settings from stack configuration under `namespace:`: text for the settings Pulumi.yaml types
 * as strings, JSON (booleans, numbers, lists, objects) for the others. Values are returned as typed as the YAML
 * gave them; resolveArgs checks them. An unknown key is an error: a typo such as `kernelLatst` would otherwise
 * be ignored silently.
 */
export function argsFromConfig(namespace: string): NixosImageArgs {
  const config = new pulumi.Config(namespace);
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    const [ns, key] = fullKey.split(":", 2);
    if (ns === namespace && !(key in SETTINGS) && !REMOVED_SETTINGS.includes(key)) {
      throw new InvalidArgumentError(
        fullKey,
        `one of the known settings (${Object.keys(SETTINGS).join(", ")})`,
        key,
      );
    }
  }
  const args: Record<string, unknown> = {};
  for (const key of [...Object.keys(SETTINGS), ...REMOVED_SETTINGS]) {
    const raw = config.get(key);
    const text = key in SETTINGS && SETTINGS[key as keyof typeof SETTINGS].type === "string";
    const value = raw === undefined ? undefined : text ? raw : parseJson(raw);
    if (!isUnset(value)) args[key] = value;
  }
  return args as NixosImageArgs;
}

/**
 * Pulumi.yaml gives optional keys the defaults "", [] and {} (Pulumi requires a default for any declared key that
 * is not mandatory): those mean "not set", as does null.
 */
function isUnset(value: unknown): boolean {
  if (value === undefined || value === null || value === "") return true;
  return typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0;
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    // Pulumi stores a YAML scalar it could not type (e.g. `diskSize: big`) as text: report it as such.
    return raw;
  }
}
