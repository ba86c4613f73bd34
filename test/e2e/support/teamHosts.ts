// The remote builder and the binary cache of team-hosts.sh, for the team-scale tests; whoever starts them also
// stops them on Ctrl-C or SIGTERM.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { stopOnSignal } from "./stopOnSignal.ts";

const SCRIPT = fileURLToPath(new URL("./team-hosts.sh", import.meta.url));

export interface TeamFacts {
  /** Nix's `builders` line for the remote builder (key and pinned host key included). */
  BUILDERS: string;
  CACHE_URL: string;
  CACHE_PUBLIC_KEY: string;
  /** Where `nix copy --to` puts paths into the cache, signed. */
  CACHE_UPLOAD: string;
  /** The builder's own Nix store, as this machine sees its directory. */
  BUILDER_STORE: string;
}

/** Runs a command as on a machine whose Nix store is `nixDir` (see pulumiWithOwnStore). */
export function inStore(nixDir: string, command: string, args: string[]) {
  return execa(
    "unshare",
    [
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      'mount --bind "$0" /nix && exec "$@"',
      nixDir,
      command,
      ...args,
    ],
    { stderr: "inherit" },
  );
}

export class TeamHosts {
  readonly dir = mkdtempSync(path.join(tmpdir(), "nci-team-"));
  facts!: TeamFacts;
  private unlisten: (() => void) | undefined;

  async start(): Promise<TeamFacts> {
    this.unlisten = stopOnSignal("the team's builder and cache", () => this.stopSync());
    const { stdout } = await execa(SCRIPT, ["start", this.dir], { stderr: "inherit" });
    this.facts = Object.fromEntries(
      stdout.split("\n").map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    ) as unknown as TeamFacts;
    return this.facts;
  }

  /** Takes a host off the network (its server stops) or brings it back. */
  async down(host: "builder" | "cache"): Promise<void> {
    await execa(SCRIPT, ["down", this.dir, host], { stderr: "inherit" });
  }

  async up(host: "builder" | "cache"): Promise<void> {
    await execa(SCRIPT, ["up", this.dir, host], { stderr: "inherit" });
  }

  /** What a team's CI does after a build: the path and its closure into the cache, signed with its key. */
  async push(nixDir: string, storePath: string): Promise<void> {
    await inStore(nixDir, "nix", [
      "--extra-experimental-features",
      "nix-command",
      "copy",
      "--to",
      this.facts.CACHE_UPLOAD,
      storePath,
    ]);
  }

  async stop(): Promise<void> {
    this.unlisten?.();
    this.stopSync();
  }

  private stopSync(): void {
    spawnSync(SCRIPT, ["stop", this.dir], { stdio: "inherit" });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
