// The private key and the throwaway known_hosts file live in a 0700 temp dir that is always removed.
import { rmSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Workspace {
  dir: string;
  /** The private key, mode 0600. */
  keyFile: string;
  /** Empty at first, mode 0600; ~/.ssh is never read or written. */
  knownHostsFile: string;
  remove(): Promise<void>;
}

const live = new Set<string>();

export async function createWorkspace(privateKey: string): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), "nixos-image-verify-"));
  live.add(dir);
  const remove = async () => {
    await rm(dir, { recursive: true, force: true });
    live.delete(dir);
  };
  try {
    await chmod(dir, 0o700);
    const keyFile = join(dir, "identity");
    // OpenSSH rejects a private key without its final newline.
    const text = privateKey.endsWith("\n") ? privateKey : `${privateKey}\n`;
    await writeFile(keyFile, text, { mode: 0o600, flag: "wx" });
    await chmod(keyFile, 0o600);
    const knownHostsFile = join(dir, "known_hosts");
    await writeFile(knownHostsFile, "", { mode: 0o600, flag: "wx" });
    return { dir, keyFile, knownHostsFile, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}

/** For signal and exit handlers: removes every workspace not yet removed. */
export function removeAllWorkspacesSync(): void {
  for (const dir of live) {
    rmSync(dir, { recursive: true, force: true });
    live.delete(dir);
  }
}
