import * as pulumi from "@pulumi/pulumi";
import { shellQuote } from "../../components/shell.ts";
import { projectPath } from "../../components/source.ts";

/** The stages' program (stages/program/main.ts): run by the component's Commands, never by the Pulumi program itself. */
const PROGRAM = "bin/nixos-image-testboot.js";

/** The shell command that runs one mode of the stages' program (its request comes on stdin). */
export function programCommand(mode: string): string {
  return `exec node ${shellQuote(projectPath(PROGRAM))} ${mode}`;
}

/** The stack's provider settings (`openstack:*`), without the prefix: the programs use the same cloud. */
export function providerSettings(): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    if (key.startsWith("openstack:")) settings[key.slice("openstack:".length)] = value;
  }
  return settings;
}

/** The provider settings for one region (undefined: the provider's own). */
export function regionSettings(region: string | undefined): Record<string, string> {
  const settings = providerSettings();
  return region === undefined ? settings : { ...settings, region };
}
