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

/** The build script: nix's log goes to stderr (streamed as progress), the image-info document to stdout. */
export function buildScript(args: ResolvedArgs, outLink: string): string {
  return [
    "set -eu",
    `mkdir -p ${shellQuote(path.dirname(outLink))}`,
    `out=$(nix-build ${nixBuildArgs(args, outLink).map(shellQuote).join(" ")})`,
    'cat "$out/nix-support/image-info.json"',
  ].join("\n");
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
  const info = command.stdout.apply((stdout) => parseImageInfo(stdout, expectedImage(args)));
  return { command, info, identity };
}
