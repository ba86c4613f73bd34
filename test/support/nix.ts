import { execa } from "execa";
import { fileURLToPath } from "node:url";

/** The repository root, nix/ and the fixture image, as absolute paths. */
export const ROOT = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");
export const NIX_DIR = `${ROOT}/nix`;
export const FIXTURE_DIR = `${ROOT}/test/fixtures/image`;

/** A value for one argument of a Nix function: strings go through --argstr, the rest through --arg. */
export type NixArg = boolean | number | string | null | { expr: string };

/** `--arg`/`--argstr` words for the given arguments; `{ expr }` passes a Nix expression verbatim. */
export function nixArgs(args: Record<string, NixArg>): string[] {
  return Object.entries(args).flatMap(([name, value]) => {
    if (typeof value === "string") return ["--argstr", name, value];
    if (value !== null && typeof value === "object") return ["--arg", name, value.expr];
    return ["--arg", name, value === null ? "null" : String(value)];
  });
}

/** A Nix string literal holding `s`. */
export function nixString(s: string): string {
  return JSON.stringify(s).replace(/\$\{/g, "\\${");
}

export interface NixResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a Nix command from the repository root. NIX_PATH is emptied so nothing can depend on it, and
 * a missing Nix or a sandbox that refuses the fixture gets a hint at scripts/setup-nix.sh.
 */
export async function nix(command: string, words: string[]): Promise<NixResult> {
  const result = await execa(command, words, {
    cwd: ROOT,
    reject: false,
    env: { NIX_PATH: "" },
  });
  if ((result as { code?: string }).code === "ENOENT") {
    throw new Error(`${command} is not installed; run scripts/setup-nix.sh as root.`);
  }
  if (result.stderr.includes("__noChroot")) {
    throw new Error(
      `${result.stderr}\nThe fixture needs sandbox = relaxed: run scripts/setup-nix.sh as root.`,
    );
  }
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
}

function check(what: string, result: NixResult): string {
  if (result.exitCode !== 0) throw new Error(`${what} failed (exit ${result.exitCode}):\n${result.stderr}`);
  return result.stdout.trim();
}

/**
 * Evaluates a Nix expression strictly and returns it as JSON. With `writeStore`, files the evaluation
 * creates (builtins.toFile, derivations) are written to the store; nix-instantiate --eval only
 * computes their paths otherwise.
 */
export async function nixEval(expr: string, { writeStore = false } = {}): Promise<unknown> {
  const words = [...(writeStore ? ["--read-write-mode"] : []), "--eval", "--strict", "--json", "-E", expr];
  return JSON.parse(check(`Evaluating ${expr}`, await nix("nix-instantiate", words)));
}

/** Evaluates a Nix expression that must fail, and returns the error output. */
export async function nixEvalError(expr: string): Promise<string> {
  const result = await nix("nix-instantiate", ["--eval", "--strict", "--json", "-E", expr]);
  if (result.exitCode === 0)
    throw new Error(`Evaluating ${expr} succeeded with ${result.stdout}; it must fail.`);
  return result.stderr;
}

/** nix-instantiate of a directory or file with arguments: the derivation path, or the failure. */
export async function instantiate(dir: string, args: Record<string, NixArg> = {}): Promise<NixResult> {
  return nix("nix-instantiate", [dir, ...nixArgs(args)]);
}

/** The derivation path of `dir` with `args`. */
export async function drvPath(dir: string, args: Record<string, NixArg> = {}): Promise<string> {
  return check(`Instantiating ${dir}`, await instantiate(dir, args));
}

/** Builds `dir` with `args` (no GC root) and returns the output path. */
export async function build(dir: string, args: Record<string, NixArg> = {}): Promise<string> {
  return check(`Building ${dir}`, await nix("nix-build", [dir, "--no-out-link", ...nixArgs(args)]));
}

/** The keys of image-info.json, sorted: the contract with components/imageInfo.ts (docs/image-info.md). */
export const IMAGE_INFO_KEYS = [
  "bootMode",
  "channel",
  "diskSize",
  "file",
  "format",
  "kernelVersion",
  "nixosRelease",
  "nixosVersion",
  "qemuGuestAgent",
  "system",
];
