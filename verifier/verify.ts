// verify(): wait for SSH, then run every check against the machine. The programmatic entry point.
import { execa } from "execa";
import {
  parseJump,
  UsageError,
  validateConfigFile,
  validateFingerprint,
  validateHost,
  validatePort,
  validateUser,
} from "./args.ts";
import {
  authMethodResults,
  commands,
  fileResult,
  kernelResult,
  keyLoginResult,
  notChecked,
  rootLoginResult,
  rootSizeResult,
  sudoResult,
} from "./checks.ts";
import { matchingKeys, pinHostKeys, scanHostKeys, scanThroughJump } from "./hostkey.ts";
import { describeJump } from "./jump.ts";
import type { Jump } from "./jump.ts";
import { reachableCheckId } from "./report.ts";
import type { CheckResult, Report } from "./report.ts";
import { runSsh } from "./ssh.ts";
import type { SshOutcome, SshRun, SshTarget } from "./ssh.ts";
import { probeBanner, progressReporter } from "./wait.ts";
import { createWorkspace } from "./workspace.ts";
import type { Workspace } from "./workspace.ts";

export interface VerifyOptions {
  host: string;
  /** Default 22. */
  port?: number;
  /** Default "nixos". */
  user?: string;
  /** The private key itself (never a path): it is written to a 0600 file in a 0700 temp dir that is always removed. */
  privateKey: string;
  /** Where the key came from, for error messages ("stdin", a path). Default "the private key". */
  keySource?: string;
  /** How long to wait for SSH to come up and accept the key (a refused key is retried). Default 300. */
  timeoutSeconds?: number;
  /** Pinned `SHA256:...` host key fingerprint. */
  hostKeyFingerprint?: string;
  /** Expected `uname -r`. */
  expectKernel?: string;
  /** Regular files that must exist. */
  expectFiles?: string[];
  /** Minimum root filesystem size in bytes. */
  minRootSizeBytes?: number;
  /** A bastion to reach the host through, as `ssh -J` does. */
  proxyJump?: Jump;
  /** Receives progress lines while waiting for SSH (the CLI prints them on stderr). */
  onProgress?: (line: string) => void;
}

/** Seconds between connection attempts while waiting; the progress line is printed at most every 10s. */
const retryDelayMs = 1000;
/**
 * Delay after a refused key login. OpenSSH 9.8+ (as on current NixOS) penalises a source address 5s per failed
 * login and 1s per connection without one (our banner probe), and refuses it for a while once the penalties
 * add up past 15s (PerSourcePenalties). Waiting 6s lets each attempt's penalty expire before the next one, so
 * retrying never gets the verifier locked out, also not for the checks that run afterwards.
 */
const refusedRetryDelayMs = 6000;
/** Upper bound of ssh's ConnectTimeout once the machine answered. */
const connectTimeoutSeconds = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The last part of ssh-keygen's complaint, without the temp path ("Load key \"/tmp/...\": invalid format"). */
function keygenError(stderr: string): string {
  return stderr.trim().split(": ").pop() || "rejected";
}

async function checkPrivateKey(keyFile: string, source: string): Promise<void> {
  const result = await execa("ssh-keygen", ["-y", "-P", "", "-f", keyFile], {
    reject: false,
    stdin: "ignore",
  });
  if (result.code === "ENOENT")
    throw new Error("ssh-keygen was not found on PATH: install the OpenSSH client.");
  if (result.exitCode !== 0) {
    throw new UsageError(
      `The "--identity" option must be an unencrypted OpenSSH private key: ${source} is not one (ssh-keygen: ${keygenError(String(result.stderr))}).`,
    );
  }
}

interface Settings {
  host: string;
  port: number;
  user: string;
  timeoutSeconds: number;
  hostKeyFingerprint: string | undefined;
  jump: Jump | undefined;
}

type Reached =
  | { reached: false; check: CheckResult }
  | { reached: true; checks: CheckResult[]; keyLogin?: SshOutcome; target: SshTarget };

/**
 * Waits until an SSH conversation gets as far as authentication: an SSH banner, the pinned host key (if any),
 * then the key login itself. Network-level failures and refusals of the key are retried until the deadline
 * (cloud-init may install the key after sshd starts); anything else is an answer.
 */
async function reach(
  settings: Settings,
  workspace: Workspace,
  onProgress?: (line: string) => void,
): Promise<Reached> {
  const { host, port, user, timeoutSeconds, hostKeyFingerprint, jump } = settings;
  const where = hostPort(host, port) + (jump === undefined ? "" : ` through ${describeJump(jump)}`);
  const start = Date.now();
  const deadline = start + timeoutSeconds * 1000;
  const progress = progressReporter(where, timeoutSeconds, onProgress);
  const target: SshTarget = {
    host,
    port,
    keyFile: workspace.keyFile,
    knownHostsFile: workspace.knownHostsFile,
    strictHostKeyChecking: hostKeyFingerprint === undefined ? "accept-new" : "yes",
    ...(jump === undefined ? {} : { jump }),
  };
  const checks: CheckResult[] = [];
  let lastError = "no attempt made";
  let banner: string | undefined;
  let hostKeyPinned = false;
  /** The server's first answer to the key login, and its latest refusal of it (reported if the deadline passes). */
  let answered: CheckResult | undefined;
  let refused: Extract<SshOutcome, { kind: "auth-refused" }> | undefined;
  for (;;) {
    let delayMs = retryDelayMs;
    const remainingMs = deadline - Date.now();
    if (remainingMs <= 0) break;
    const probe = await probeBanner(host, port, Math.min(remainingMs, 5000), jump);
    if (probe.ok) {
      banner ??= probe.banner;
      const remainingSeconds = Math.min(connectTimeoutSeconds, (deadline - Date.now()) / 1000);
      if (hostKeyFingerprint !== undefined && !hostKeyPinned) {
        const keys =
          jump === undefined
            ? await scanHostKeys(host, port, remainingSeconds)
            : await scanThroughJump(jump, host, port, remainingSeconds, workspace.dir, hostKeyFingerprint);
        if (keys.length > 0) {
          const pinned = matchingKeys(keys, hostKeyFingerprint);
          if (pinned.length === 0) {
            const offered = keys.map((key) => `${key.fingerprint} (${key.line.split(" ")[1]})`).join(", ");
            checks.push(reachedCheck(where, banner, start));
            checks.push({
              id: "host-key",
              name: "host key mismatch",
              ok: false,
              reason: `expected ${hostKeyFingerprint}, the server offers ${offered}`,
            });
            return { reached: true, checks, target };
          }
          await pinHostKeys(workspace.knownHostsFile, pinned);
          hostKeyPinned = true;
          checks.push({
            id: "host-key",
            name: "host key matches",
            ok: true,
            reason: `the server offers ${hostKeyFingerprint} (${pinned[0]?.line.split(" ")[1]})`,
          });
        } else {
          lastError = "ssh-keyscan got no host keys";
        }
      }
      if (hostKeyFingerprint === undefined || hostKeyPinned) {
        const keyLogin = await runSsh(target, {
          user,
          command: commands.keyLogin,
          connectTimeoutSeconds: remainingSeconds,
        });
        if (keyLogin.kind === "network") {
          lastError = keyLogin.message;
        } else {
          answered ??= reachedCheck(where, banner, start);
          if (keyLogin.kind !== "auth-refused") {
            checks.unshift(answered);
            return { reached: true, checks, keyLogin, target };
          }
          // On a fresh cloud instance sshd is often up before cloud-init has written the key from the
          // metadata service: the server did answer, but this refusal need not be its final word.
          refused = keyLogin;
          lastError = "key refused so far, retrying (cloud-init may not have installed it yet)";
          delayMs = refusedRetryDelayMs;
        }
      }
    } else {
      lastError = probe.error;
    }
    progress(lastError);
    await sleep(Math.max(0, Math.min(delayMs, deadline - Date.now())));
  }
  if (answered !== undefined && refused !== undefined) {
    // The server answered, so this is a failing key login (exit 1), not an unreachable machine (exit 3).
    checks.unshift(answered);
    const message = `${refused.message} (still refused when the ${timeoutSeconds}s timeout passed)`;
    return { reached: true, checks, keyLogin: { ...refused, message }, target };
  }
  return {
    reached: false,
    check: {
      id: reachableCheckId,
      name: "SSH unreachable",
      ok: false,
      reason: `could not open an SSH connection to ${where} within ${timeoutSeconds}s (last error: ${lastError})`,
    },
  };
}

function reachedCheck(where: string, banner: string | undefined, start: number): CheckResult {
  const seconds = Math.round((Date.now() - start) / 1000);
  return {
    id: reachableCheckId,
    name: `SSH reachable on ${where}`,
    ok: true,
    reason: `${banner ?? "answered"} after ${seconds}s`,
  };
}

function checkedJump(jump: Jump): Jump {
  const checked = parseJump(describeJump(jump));
  if (checked.host !== jump.host || checked.user !== jump.user || checked.port !== jump.port)
    throw new UsageError(`The "--proxy-jump" option must be [user@]host[:port]: ${JSON.stringify(jump)}.`);
  return jump.configFile === undefined
    ? checked
    : { ...checked, configFile: validateConfigFile(jump.configFile) };
}

/** Runs every check; never throws for a failing machine, only for bad options (UsageError) or a missing OpenSSH client. */
export async function verify(options: VerifyOptions): Promise<Report> {
  const host = validateHost(options.host);
  const port = validatePort(String(options.port ?? 22));
  const user = validateUser(options.user ?? "nixos");
  const timeoutSeconds = options.timeoutSeconds ?? 300;
  if (!(timeoutSeconds > 0))
    throw new UsageError(`The "--timeout" option must be greater than 0: ${timeoutSeconds}.`);
  const hostKeyFingerprint =
    options.hostKeyFingerprint === undefined ? undefined : validateFingerprint(options.hostKeyFingerprint);
  const report = (checks: CheckResult[]): Report => ({
    host,
    port,
    user,
    ok: checks.every((c) => c.ok),
    checks,
  });

  // The bastion's words end up in a shell command line (the ProxyCommand): checked as the CLI checks them.
  const jump = options.proxyJump === undefined ? undefined : checkedJump(options.proxyJump);

  const workspace = await createWorkspace(options.privateKey);
  try {
    await checkPrivateKey(workspace.keyFile, options.keySource ?? "the private key");
    const settings = { host, port, user, timeoutSeconds, hostKeyFingerprint, jump };
    const reached = await reach(settings, workspace, options.onProgress);
    if (!reached.reached) return report([reached.check]);
    if (reached.keyLogin === undefined) return report(reached.checks);

    const { target } = reached;
    const ssh = (run: Omit<SshRun, "connectTimeoutSeconds">) =>
      runSsh(target, { connectTimeoutSeconds, ...run });
    const keyLogin = keyLoginResult(user, reached.keyLogin);
    const loggedIn = keyLogin.ok;
    const skipped = (id: string, name: string) =>
      notChecked(id, name, `skipped: key login as ${user} failed`);
    const asUser = (
      command: string,
      interpret: (outcome: SshOutcome) => CheckResult,
      id: string,
      name: string,
    ): Promise<CheckResult> =>
      loggedIn ? ssh({ user, command }).then(interpret) : Promise.resolve(skipped(id, name));

    const extras: Promise<CheckResult>[] = [];
    if (options.expectKernel !== undefined) {
      const expected = options.expectKernel;
      extras.push(asUser(commands.kernel, (outcome) => kernelResult(expected, outcome), "kernel", "kernel"));
    }
    for (const path of options.expectFiles ?? []) {
      extras.push(
        asUser(commands.fileExists(path), (outcome) => fileResult(path, outcome), `file:${path}`, path),
      );
    }
    if (options.minRootSizeBytes !== undefined) {
      const min = options.minRootSizeBytes;
      extras.push(
        asUser(
          commands.rootSize,
          (outcome) => rootSizeResult(min, outcome),
          "root-fs-size",
          "root filesystem size",
        ),
      );
    }
    const [sudo, rootLogin, authMethods, extraResults] = await Promise.all([
      asUser(commands.sudo, (outcome) => sudoResult(user, outcome), "sudo", "sudo"),
      ssh({ user: "root", command: commands.rootLogin, verbose: true }).then(rootLoginResult),
      // Offering no credentials at all makes the server list the methods it accepts.
      ssh({
        user,
        command: commands.keyLogin,
        verbose: true,
        extraOptions: ["PreferredAuthentications=none"],
      }).then(authMethodResults),
      Promise.all(extras),
    ]);
    return report([...reached.checks, keyLogin, sudo, rootLogin, ...authMethods, ...extraResults]);
  } finally {
    await workspace.remove();
  }
}
