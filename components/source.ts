import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * A file of this project, relative to the working directory when it lies inside it, so commands built from
 * it (and so the Pulumi diff) do not change when the checkout moves.
 */
export function projectPath(fromRoot: string): string {
  const absolute = fileURLToPath(new URL(`../${fromRoot}`, import.meta.url));
  const relative = path.relative(process.cwd(), absolute);
  return relative.startsWith("..") || path.isAbsolute(relative) ? absolute : relative;
}

/** This project's nix/ directory (see projectPath). */
export function defaultSource(): string {
  return projectPath("nix");
}

/** Whether a nixpkgs setting names a tarball URL rather than a local path. */
export function isNixpkgsUrl(nixpkgs: string): boolean {
  return /^https?:\/\//i.test(nixpkgs);
}

/** Every file below root (the expression's directory) that can change the image, recursively, sorted. */
function sourceFiles(root: string): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      // Build links (result, result-*) and VCS metadata are not inputs of the image.
      if (entry.name.startsWith(".") || /^result(-.*)?$/.test(entry.name)) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.push(full);
    }
  };
  walk(root);
  return files.sort().map((f) => path.relative(root, f));
}

/**
 * What identifies a local nixpkgs beyond its path: the revision a channel or tarball records, or the
 * commit a git checkout is at. A URL is taken as it is (pin revision URLs, not branch URLs).
 */
function nixpkgsRevision(nixpkgs: string): string {
  if (isNixpkgsUrl(nixpkgs)) return "";
  const recorded = path.join(nixpkgs, ".git-revision");
  if (existsSync(recorded)) return readFileSync(recorded, "utf8").trim();
  if (!existsSync(path.join(nixpkgs, ".git"))) return "";
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", nixpkgs, ...args], { encoding: "utf8" }).trim();
  return `${git("rev-parse", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? "+dirty" : ""}`;
}

export interface BuildIdentityInput {
  source: string;
  kernelLatest: boolean;
  diskSize: number | "auto";
  system?: string;
  bootMode?: string;
  channel?: string;
  nixpkgs: string | undefined;
}

/**
 * A hash of everything that determines the image derivation: the expression's files, its arguments and
 * nixpkgs. It changes exactly when a rebuild is due, and costs a few file reads, no Nix evaluation.
 */
export function buildIdentity(input: BuildIdentityInput): string {
  const hash = createHash("sha256");
  const isDirectory = statSync(input.source).isDirectory();
  const root = isDirectory ? input.source : path.dirname(input.source);
  hash.update(
    JSON.stringify({
      entry: isDirectory ? "" : path.basename(input.source),
      kernelLatest: input.kernelLatest,
      diskSize: input.diskSize,
      system: input.system ?? null,
      bootMode: input.bootMode ?? null,
      channel: input.channel ?? null,
      nixpkgs: input.nixpkgs ?? null,
      nixpkgsRevision: input.nixpkgs ? nixpkgsRevision(input.nixpkgs) : null,
    }),
  );
  for (const file of sourceFiles(root)) {
    hash.update(`\0${file}\0`);
    hash.update(readFileSync(path.join(root, file)));
  }
  return hash.digest("hex");
}
