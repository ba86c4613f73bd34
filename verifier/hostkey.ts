// Host key pinning: fetch the server's keys with ssh-keyscan (or, through a bastion, with the verifier's own
// ssh invocation), fingerprint them with ssh-keygen -l, and keep only the pinned one in the throwaway known_hosts file (ssh then runs with StrictHostKeyChecking=yes).
import { execa } from "execa";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Jump } from "./jump.ts";
import { sshArgs } from "./ssh.ts";

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

/** Host key algorithms to ask for one at a time, in the order pins prefer them. */
const ALGORITHMS = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521"];
const RSA = ["rsa-sha2-512", "rsa-sha2-256"];

/**
 * ssh-keyscan through the hop (ssh-keyscan itself cannot use one): one connection per key type that offers no
 * credentials (PreferredAuthentications=none) and records the key the server shows in a scratch known_hosts
 * file. Stops at the key whose fingerprint is `wanted`, or returns every key the server offered.
 */
export async function scanThroughJump(
  jump: Jump,
  host: string,
  port: number,
  timeoutSeconds: number,
  scratchDir: string,
  wanted?: string,
): Promise<ScannedKey[]> {
  const keys: ScannedKey[] = [];
  for (const algorithms of [...ALGORITHMS.map((a) => [a]), RSA]) {
    const file = join(scratchDir, "scanned_host_key");
    await rm(file, { force: true });
    // The verifier's own ssh invocation (isolated options, the hop as ProxyCommand), recording what it is shown
    // in the scratch file and offering no credentials.
    const args = sshArgs(
      { host, port, keyFile: "/dev/null", knownHostsFile: file, strictHostKeyChecking: "accept-new", jump },
      {
        user: "nobody",
        command: "true",
        connectTimeoutSeconds: timeoutSeconds,
        extraOptions: [`HostKeyAlgorithms=${algorithms.join(",")}`, "PreferredAuthentications=none"],
      },
    );
    const run = await execa("ssh", args, {
      reject: false,
      stdin: "ignore",
      timeout: Math.ceil(timeoutSeconds + 10) * 1000,
      env: { LC_ALL: "C" },
    });
    const found = await fingerprintLines(await readFile(file, "utf8").catch(() => ""));
    keys.push(...found);
    if (wanted !== undefined && found.some((k) => k.fingerprint === wanted)) break;
    // A server without this key type says so; any other failure (not reachable yet) would repeat for each type.
    if (found.length === 0 && !/no matching host key type/.test(String(run.stderr))) break;
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
