import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "./args.ts";
import { parseImageInfo } from "./imageInfo.ts";
import type { ExpectedImage, ImageInfo } from "./imageInfo.ts";
import { shellQuote } from "./shell.ts";
import { buildIdentity, isNixpkgsUrl } from "./source.ts";

/** Where build results are registered as Nix GC roots, relative to the project directory. */
export const GCROOT_DIR = ".nixos-cloud-image/gcroots";

export interface BuiltImage {
  command: local.Command;
  /** The build's image-info.json, checked; unknown during a preview that rebuilds. */
  info: pulumi.Output<ImageInfo>;
  /** When the build ran, "YYYY-MM-DD hh:mm" in UTC (Glance's image_build_date); fixed with the build. */
  builtAt: pulumi.Output<string>;
  /** Hash of everything that determines the image (see buildIdentity). */
  identity: string;
}

/** The nix-build invocation: the documented arguments plus pass-through Nix settings. */
export function nixBuildArgs(args: ResolvedArgs, outLink: string): string[] {
  const words = [args.source, "--arg", "kernelLatest", String(args.kernelLatest)];
  // --arg for a number, --argstr for "auto": nix/default.nix refuses "1024" as a string.
  words.push(
    ...(args.diskSize === "auto"
      ? ["--argstr", "diskSize", "auto"]
      : ["--arg", "diskSize", String(args.diskSize)]),
  );
  if (args.system !== undefined) words.push("--argstr", "system", args.system);
  if (args.bootMode !== undefined) words.push("--argstr", "bootMode", args.bootMode);
  if (args.channel !== undefined) words.push("--argstr", "channel", args.channel);
  if (args.nixpkgs !== undefined) {
    // Nix cannot resolve a relative path given as a string, so local paths are made absolute here.
    const nixpkgs = isNixpkgsUrl(args.nixpkgs) ? args.nixpkgs : path.resolve(args.nixpkgs);
    words.push("--argstr", "nixpkgs", nixpkgs);
  }
  for (const [name, value] of Object.entries(args.nixOptions)) words.push("--option", name, value);
  words.push("--out-link", outLink);
  return words;
}

/** What image-info.json must report for these arguments: all but a diskSize of "auto", which the build decides. */
export function expectedImage(args: ResolvedArgs): ExpectedImage {
  return {
    diskSize: args.diskSize === "auto" ? undefined : args.diskSize,
    bootMode: args.bootMode,
    system: args.system,
  };
}

/**
 * The build script: nix's log goes to stderr (streamed as progress), to stdout one document holding the build's
 * image-info.json and the time the build ran (a store path has no build date: Nix sets every mtime to 1970).
 */
export function buildScript(args: ResolvedArgs, outLink: string): string {
  return [
    "set -eu",
    `mkdir -p ${shellQuote(path.dirname(outLink))}`,
    `out=$(nix-build ${nixBuildArgs(args, outLink).map(shellQuote).join(" ")})`,
    `printf '{"builtAt":"%s","imageInfo":' "$(date -u '+%Y-%m-%d %H:%M')"`,
    'cat "$out/nix-support/image-info.json"',
    "printf '}'",
  ].join("\n");
}

/** Splits the build script's stdout into the checked image-info.json and the build time. */
export function parseBuildOutput(
  stdout: string,
  expected: ExpectedImage,
): { info: ImageInfo; builtAt: string } {
  let doc: { builtAt?: unknown; imageInfo?: unknown } = {};
  try {
    doc = JSON.parse(stdout);
  } catch {
    // Reported by parseImageInfo, which names the rule.
  }
  const info = parseImageInfo(doc.imageInfo === undefined ? stdout : JSON.stringify(doc.imageInfo), expected);
  if (typeof doc.builtAt !== "string" || !/^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(doc.builtAt)) {
    throw new Error(`The build script's output has no build time; received ${JSON.stringify(doc.builtAt)}.`);
  }
  return { info, builtAt: doc.builtAt };
}

/**
 * Runs nix-build through a local.Command. The command is replaced exactly when the build identity
 * changes; it never runs during preview. Its out-link is a GC root, so the image stays in the store
 * at least until the build resource is deleted (after the image that uploaded it).
 */
export function buildImage(name: string, args: ResolvedArgs, parent: pulumi.Resource): BuiltImage {
  const identity = buildIdentity(args);
  // The identity in the link name keeps a replacement's new root apart from the old one being deleted.
  const outLink = path.join(GCROOT_DIR, `${pulumi.getStack()}-${name}-${identity.slice(0, 16)}`);
  const command = new local.Command(
    `${name}-build`,
    {
      create: buildScript(args, outLink),
      delete: `rm -f ${shellQuote(outLink)}`,
      triggers: [identity],
      logging: "stderr",
      // The previous stdout is not needed by the script, and large environments can hit E2BIG.
      addPreviousOutputInEnv: false,
    },
    { parent, customTimeouts: { create: `${args.buildTimeoutMinutes}m` } },
  );
  const output = command.stdout.apply((stdout) => parseBuildOutput(stdout, expectedImage(args)));
  return { command, info: output.info, builtAt: output.builtAt, identity };
}
