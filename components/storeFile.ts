import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "./settings.ts";
import type { BuiltImage } from "./build.ts";
import { storePathOf } from "./imageInfo.ts";
import { regionAliases } from "./regions.ts";
import { shellQuote } from "./shell.ts";

/**
 * The script that makes sure the built file is on this machine before an upload needs it: another machine may
 * have built it (a shared state backend). A missing store path is realised through the configured substituters
 * (nixOptions included); when that fails too, it says exactly what to do and fails, so the upload (which
 * depends on it) never starts and nothing half-made reaches Glance.
 */
export function storeFileScript(file: string, nixOptions: Record<string, string>): string {
  const storePath = storePathOf(file);
  const options = Object.entries(nixOptions).flatMap(([name, value]) => ["--option", name, value]);
  const say = (line: string) => `echo ${shellQuote(`nixos-cloud-image: ${line}`)} >&2`;
  return [
    `[ -e ${shellQuote(file)} ] && exit 0`,
    say(`${storePath} is not in this machine's Nix store: realising it through the configured substituters`),
    `nix-store --realise ${[storePath, ...options].map(shellQuote).join(" ")} >/dev/null && exit 0`,
    say(
      `${storePath} could not be realised here, so it cannot be uploaded: build it on this machine ` +
        "(pulumi up --replace <the build's URN>), or give nixOptions a substituter (and its " +
        "trusted-public-keys) that holds it",
    ),
    "exit 1",
  ].join("\n");
}

/**
 * Runs storeFileScript before a region's upload: created with the region's image and replaced with each new
 * build, so nothing runs when no upload is due (a visibility change from a machine without the file).
 */
export function ensureStoreFile(
  name: string,
  suffix: string,
  formerSuffix: pulumi.Output<string>,
  args: ResolvedArgs,
  build: BuiltImage,
  parent: pulumi.Resource,
): local.Command {
  return new local.Command(
    `${name}-file${suffix}`,
    {
      create: build.info.apply((i) => storeFileScript(i.file, args.nixOptions)),
      triggers: [build.identity],
      logging: "stderr",
      addPreviousOutputInEnv: false,
    },
    { parent, aliases: regionAliases(formerSuffix, (s) => `${name}-file${s}`), dependsOn: [build.command] },
  );
}
