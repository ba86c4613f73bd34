// Running the OpenSSH client, and reading what it says. Argument building and output parsing are pure.
import { execa } from "execa";
import { proxyCommand } from "./jump.ts";
import type { Jump } from "./jump.ts";

export interface SshTarget {
  host: string;
  port: number;
  keyFile: string;
  knownHostsFile: string;
  /** "accept-new" records the first host key seen; "yes" requires the pinned one already written. */
  strictHostKeyChecking: "accept-new" | "yes";
  /** A bastion the connection goes through. */
  jump?: Jump;
}

export interface SshRun {
  user: string;
  /** Remote command, run by the login shell. */
  command: string;
  connectTimeoutSeconds: number;
  /** `-v`, to see the authentication methods the server offers. */
  verbose?: boolean;
  /** Extra `-o` settings, e.g. PreferredAuthentications=none. */
  extraOptions?: string[];
}

/** What one ssh invocation came to. */
export type SshOutcome =
  | { kind: "ran"; exitCode: number; stdout: string; stderr: string }
  | { kind: "auth-refused"; methods: string[]; message: string }
  | { kind: "host-key-rejected"; message: string }
  | { kind: "network"; message: string };

/** Upper bound for one ssh run after it connected (a hung remote command must not hang the verifier). */
const runTimeoutMs = 60_000;

export function sshArgs(target: SshTarget, run: SshRun): string[] {
  const options = [
    "BatchMode=yes",
    "IdentitiesOnly=yes",
    `IdentityFile=${target.keyFile}`,
    "IdentityAgent=none",
    "ForwardAgent=no",
    "ForwardX11=no",
    "ClearAllForwardings=yes",
    "ControlMaster=no",
    "ControlPath=none",
    "PasswordAuthentication=no",
    "KbdInteractiveAuthentication=no",
    `UserKnownHostsFile=${target.knownHostsFile}`,
    "GlobalKnownHostsFile=/dev/null",
    `StrictHostKeyChecking=${target.strictHostKeyChecking}`,
    "UpdateHostKeys=no",
    "CheckHostIP=no",
    "HashKnownHosts=no",
    `ConnectTimeout=${Math.max(1, Math.ceil(run.connectTimeoutSeconds))}`,
    "ServerAliveInterval=5",
    "ServerAliveCountMax=3",
    `LogLevel=${run.verbose === true ? "DEBUG1" : "ERROR"}`,
    ...(target.jump === undefined ? [] : [`ProxyCommand=${proxyCommand(target.jump)}`]),
    ...(run.extraOptions ?? []),
  ];
  return [
    "-F",
    "/dev/null",
    "-T",
    ...options.flatMap((option) => ["-o", option]),
    "-p",
    String(target.port),
    "-l",
    run.user,
    "--",
    target.host,
    run.command,
  ];
}

/** The methods in the first "Authentications that can continue:" line of `ssh -v`, else in "Permission denied (...)". */
export function parseAuthMethods(stderr: string): string[] | undefined {
  const match =
    /Authentications that can continue: ([^\r\n]*)/.exec(stderr) ??
    /Permission denied \(([^)]*)\)/.exec(stderr);
  if (match === null) return undefined;
  return (match[1] ?? "")
    .split(",")
    .map((method) => method.trim())
    .filter((method) => method !== "");
}

/** The lines of ssh's stderr that are meant for people (not -v debug output), joined. */
export function sshMessage(stderr: string): string {
  const lines = stderr
    .split(/\r?\n/)
    .map((line) => line.replace(/\r$/, "").trim())
    .filter((line) => line !== "" && !line.startsWith("debug") && !line.startsWith("OpenSSH_"));
  return lines.join(" ") || "ssh failed without a message";
}

/** Sorts an ssh result into: the command ran, the server refused authentication, the host key was rejected, or a network-level failure. */
export function classifySsh(result: {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}): SshOutcome {
  const { exitCode, stdout, stderr } = result;
  if (result.timedOut)
    return { kind: "network", message: `ssh did not finish within ${runTimeoutMs / 1000}s` };
  // ssh itself exits 255 on its own errors; anything else is the remote command's status.
  if (exitCode !== 255) return { kind: "ran", exitCode, stdout, stderr };
  if (/Permission denied \(/.test(stderr)) {
    return { kind: "auth-refused", methods: parseAuthMethods(stderr) ?? [], message: sshMessage(stderr) };
  }
  if (
    /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No [A-Z0-9-]+ host key is known/.test(
      stderr,
    )
  ) {
    return { kind: "host-key-rejected", message: sshMessage(stderr) };
  }
  return { kind: "network", message: sshMessage(stderr) };
}

export async function runSsh(target: SshTarget, run: SshRun): Promise<SshOutcome> {
  const result = await execa("ssh", sshArgs(target, run), {
    reject: false,
    stdin: "ignore",
    timeout: runTimeoutMs,
    // No agent (but for the hop to a bastion, which logs in as the deployer does: the connection to the
    // machine has IdentityAgent=none), and ssh's own messages in English whatever the caller's locale.
    env: {
      SSH_AUTH_SOCK: target.jump === undefined ? undefined : process.env.SSH_AUTH_SOCK,
      SSH_ASKPASS: undefined,
      DISPLAY: undefined,
      LC_ALL: "C",
    },
  });
  if (result.code === "ENOENT") throw new Error("ssh was not found on PATH: install the OpenSSH client.");
  return classifySsh({
    exitCode: result.exitCode ?? 255,
    stdout: String(result.stdout),
    stderr: String(result.stderr),
    timedOut: result.timedOut,
  });
}
