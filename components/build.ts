import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "./settings.ts";
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
  /** When the store path was first built here, "YYYY-MM-DD hh:mm" in UTC (Glance's image_build_date). */
  builtAt: pulumi.Output<string>;
  /** SHA-512 of the built file, recorded at build time: promotion compares Glance's hash with it. */
  sha512: pulumi.Output<string>;
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
 * image-info.json, the file's SHA-512 (promotion compares Glance's hash with it, on any machine) and when the
 * store path was first built here: Nix's registration time, so a rebuild that yields the same path keeps its
 * date (a store path has no build date of its own: Nix sets every mtime to 1970).
 */
export function buildScript(args: ResolvedArgs, outLink: string): string {
  return [
    "set -eu",
    `mkdir -p ${shellQuote(path.dirname(outLink))}`,
    `out=$(nix-build ${nixBuildArgs(args, outLink).map(shellQuote).join(" ")})`,
    'info="$out/nix-support/image-info.json"',
    String.raw`file=$(sed -n 's/.*"file" *: *"\([^"]*\)".*/\1/p' "$info" | head -n 1)`,
    '[ -n "$file" ] || { echo "$info names no file" >&2; exit 1; }',
    'sha=$({ sha512sum "$file" 2>/dev/null || shasum -a 512 "$file"; } | cut -d " " -f 1)',
    String.raw`registered=$(nix --extra-experimental-features nix-command path-info --json "$out" 2>/dev/null | sed -n 's/.*"registrationTime": *\([0-9]*\).*/\1/p' | head -n 1)`,
    "at=${registered:-$(date +%s)}",
    `built=$(date -u -d "@$at" '+%Y-%m-%d %H:%M' 2>/dev/null || date -u -r "$at" '+%Y-%m-%d %H:%M')`,
    `printf '{"builtAt":"%s","sha512":"%s","imageInfo":' "$built" "$sha"`,
    'cat "$info"',
    "printf '}'",
  ].join("\n");
}

/** Splits the build script's stdout into the checked image-info.json, the build time and the file's SHA-512. */
export function parseBuildOutput(
  stdout: string,
  expected: ExpectedImage,
): { info: ImageInfo; builtAt: string; sha512: string } {
  let doc: { builtAt?: unknown; sha512?: unknown; imageInfo?: unknown } = {};
  try {
    doc = JSON.parse(stdout);
  } catch {
    // Reported by parseImageInfo, which names the rule.
  }
  const info = parseImageInfo(doc.imageInfo === undefined ? stdout : JSON.stringify(doc.imageInfo), expected);
  if (typeof doc.builtAt !== "string" || !/^\d{4}-\d\d-\d\d \d\d:\d\d$/.test(doc.builtAt)) {
    throw new Error(`The build script's output has no build time; received ${JSON.stringify(doc.builtAt)}.`);
  }
  if (typeof doc.sha512 !== "string" || !/^[0-9a-f]{128}$/.test(doc.sha512)) {
    throw new Error(
      `The build script's output has no SHA-512 of the image; received ${JSON.stringify(doc.sha512)}.`,
    );
  }
  return { info, builtAt: doc.builtAt, sha512: doc.sha512 };
}

/**
 * Runs nix-build through a local.Command. The command is replaced exactly when the build identity
 * changes; it never runs during preview. Its out-link is a GC root, so the image stays in the store
 * at least until the build resource is deleted (after the image that uploaded it).
 */
export function buildImage(name: string, args: ResolvedArgs, parent: pulumi.Resource): BuiltImage {
  const identity = buildIdentity(args);
  // The identity in the link name keeps a replacement's new root apart from the old one being deleted.
  // Named after the stack and the identity, not the component: a component renamed (with an alias) keeps its
  // build as it is. Two components of one stack building the same image share the root.
  const outLink = path.join(GCROOT_DIR, `${pulumi.getStack()}-${identity.slice(0, 16)}`);
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
  return { command, info: output.info, builtAt: output.builtAt, sha512: output.sha512, identity };
}
