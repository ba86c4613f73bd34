// Reaching a machine through a bastion (an SSH jump host), as `ssh -J` does, but with the hop spelled out: the
// connection to the machine keeps its own isolated options, and the hop is an `ssh -W` run with the deployer's
// own OpenSSH configuration (or the file given), in batch mode, so it never prompts.
import { execa } from "execa";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import type { ScannedKey } from "./hostkey.ts";
import { fingerprintLines } from "./hostkey.ts";

export interface Jump {
  /** Default: as the hop's OpenSSH configuration says (else the local user name). */
  user?: string;
  host: string;
  /** Default: as the hop's OpenSSH configuration says (else 22). */
  port?: number;
  /** An OpenSSH client config for the hop (`ssh -F`); default the deployer's own ~/.ssh/config. */
  configFile?: string;
}

export function describeJump(jump: Jump): string {
  const host = jump.host.includes(":") ? `[${jump.host}]` : jump.host;
  return `${jump.user === undefined ? "" : `${jump.user}@`}${host}${jump.port === undefined ? "" : `:${jump.port}`}`;
}

/** The hop's ssh arguments: forward stdin/stdout to target:port (`%h`/`%p` in a ProxyCommand). */
export function hopArgs(jump: Jump, target: string, port: string): string[] {
  return [
    ...(jump.configFile === undefined ? [] : ["-F", jump.configFile]),
    // On the command line, so a config's accept-new or no cannot make the bastion trusted on first use.
    ...["-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"],
    ...["-o", "LogLevel=ERROR"],
    ...["-o", "ClearAllForwardings=yes", "-o", "ForwardAgent=no"],
    ...(jump.user === undefined ? [] : ["-l", jump.user]),
    ...(jump.port === undefined ? [] : ["-p", String(jump.port)]),
    ...["-W", `[${target}]:${port}`, "--", jump.host],
  ];
}

/**
 * The ProxyCommand for the connection to the machine (ssh runs it with `/bin/sh -c "exec ..."`, so words are
 * quoted). The bastion's words are checked (parseJump, validateConfigFile): no quote, space or `%` reaches here
 * but the `%h`/`%p` that ssh expands.
 */
export function proxyCommand(jump: Jump): string {
  const quote = (word: string) => (/^[A-Za-z0-9._\/=:@%+-]+$/.test(word) ? word : `'${word}'`);
  return ["ssh", ...hopArgs(jump, "%h", "%p").map(quote)].join(" ");
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
    const options = [
      `HostKeyAlgorithms=${algorithms.join(",")}`,
      "PreferredAuthentications=none",
      "StrictHostKeyChecking=accept-new",
      `UserKnownHostsFile=${file}`,
      "GlobalKnownHostsFile=/dev/null",
      "HashKnownHosts=no",
      "CheckHostIP=no",
      `ProxyCommand=${proxyCommand(jump)}`,
      `ConnectTimeout=${Math.max(1, Math.ceil(timeoutSeconds))}`,
      "BatchMode=yes",
      "LogLevel=ERROR",
    ];
    const args = ["-F", "/dev/null", "-T", ...options.flatMap((o) => ["-o", o]), "-p", String(port)];
    const run = await execa("ssh", [...args, "-l", "nobody", "--", host, "true"], {
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
