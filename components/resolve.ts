import * as pulumi from "@pulumi/pulumi";
import type { NixosImageArgs } from "./args.ts";
import { checkArgs } from "./settings.ts";
import type { ResolvedArgs } from "./settings.ts";

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

/**
 * Checks every argument and fills in defaults. Runs before any child resource exists, so a bad value
 * never leaves anything half-created. `prefix` names where the settings come from (e.g. a config namespace).
 */
export function resolveArgs(args: NixosImageArgs, prefix = ""): ResolvedArgs {
  const result = checkArgs(args);
  if (result.ok) return result.value;
  const { key, rule, value } = result.refusal;
  throw new InvalidArgumentError(key === "" ? prefix || "args" : prefix + key, rule, value);
}
