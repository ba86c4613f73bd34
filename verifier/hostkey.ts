// Host key pinning: fetch the server's keys with ssh-keyscan, fingerprint them with ssh-keygen -l, and
// keep only the pinned one in the throwaway known_hosts file (ssh then runs with StrictHostKeyChecking=yes).
import { execa } from "execa";
import { writeFile } from "node:fs/promises";

export interface ScannedKey {
  /** The known_hosts line as ssh-keyscan printed it, e.g. `[10.0.0.5]:2222 ssh-ed25519 AAAA...`. */
  line: string;
  /** `SHA256:...` */
  fingerprint: string;
}

/** The `SHA256:...` field of `ssh-keygen -l -E sha256` output ("256 SHA256:abc comment (ED25519)"). */
export function parseFingerprint(keygenOutput: string): string | undefined {
  return /\b(SHA256:[A-Za-z0-9+/]+)=*/.exec(keygenOutput)?.[1];
}

export async function scanHostKeys(
  host: string,
  port: number,
  timeoutSeconds: number,
): Promise<ScannedKey[]> {
  const scan = await execa(
    "ssh-keyscan",
    ["-T", String(Math.max(1, Math.ceil(timeoutSeconds))), "-p", String(port), "--", host],
    {
      reject: false,
      stdin: "ignore",
      timeout: (timeoutSeconds + 5) * 1000,
    },
  );
  if (scan.code === "ENOENT")
    throw new Error("ssh-keyscan was not found on PATH: install the OpenSSH client.");
  return fingerprintLines(String(scan.stdout));
}

/** The keys of known_hosts lines (as ssh-keyscan prints them and ssh records them), with their fingerprints. */
export async function fingerprintLines(text: string): Promise<ScannedKey[]> {
  const lines = text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  const keys: ScannedKey[] = [];
  for (const line of lines) {
    const keygen = await execa("ssh-keygen", ["-l", "-E", "sha256", "-f", "-"], {
      input: `${line}\n`,
      reject: false,
    });
    const fingerprint = parseFingerprint(String(keygen.stdout));
    if (keygen.exitCode === 0 && fingerprint !== undefined) keys.push({ line, fingerprint });
  }
  return keys;
}

/** The scanned keys whose fingerprint is the pinned one. */
export function matchingKeys(keys: readonly ScannedKey[], pinned: string): ScannedKey[] {
  return keys.filter((key) => key.fingerprint === pinned.replace(/=+$/, ""));
}

export async function pinHostKeys(knownHostsFile: string, keys: readonly ScannedKey[]): Promise<void> {
  await writeFile(knownHostsFile, keys.map((key) => `${key.line}\n`).join(""), { mode: 0o600 });
}
