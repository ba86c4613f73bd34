// The checks: the remote command each one runs, and a pure function that turns ssh's outcome into a result.
import type { CheckResult } from "./report.ts";
import type { SshOutcome } from "./ssh.ts";

export const commands = {
  keyLogin: "true",
  sudo: "sudo -n true && sudo -n id -u",
  rootLogin: "true",
  kernel: "uname -r",
  rootSize: "df -P -k /",
  fileExists: (path: string) => `test -f ${shellQuote(path)}`,
} as const;

export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

const pass = (id: string, name: string, reason: string): CheckResult => ({ id, name, ok: true, reason });
const fail = (id: string, name: string, reason: string): CheckResult => ({ id, name, ok: false, reason });

function firstLine(text: string): string {
  return text.trim().split(/\r?\n/)[0]?.trim() ?? "";
}

/** Why an ssh run gave no answer to the question asked. */
function notAnswered(outcome: Exclude<SshOutcome, { kind: "ran" }>): string {
  switch (outcome.kind) {
    case "auth-refused":
      return `the key login was refused: ${outcome.message}`;
    case "host-key-rejected":
      return `the host key was rejected: ${outcome.message}`;
    case "network":
      return outcome.message;
  }
}

export function notChecked(id: string, name: string, reason: string): CheckResult {
  return fail(id, `${name} not checked`, reason);
}

export function keyLoginResult(user: string, outcome: SshOutcome): CheckResult {
  const id = "key-login";
  if (outcome.kind === "ran" && outcome.exitCode === 0) {
    return pass(id, `key login as ${user}`, "the server accepted the key and ran `true`");
  }
  if (outcome.kind === "ran") {
    const said = firstLine(outcome.stderr) || firstLine(outcome.stdout);
    return fail(
      id,
      `key login as ${user} failed`,
      `logged in, but \`true\` exited ${outcome.exitCode}${said ? `: ${said}` : ""}`,
    );
  }
  if (outcome.kind === "auth-refused") {
    return fail(id, `key login as ${user} refused`, `the server refused the key: ${outcome.message}`);
  }
  return fail(id, `key login as ${user} failed`, notAnswered(outcome));
}

export function sudoResult(user: string, outcome: SshOutcome): CheckResult {
  const id = "sudo";
  if (outcome.kind !== "ran") return notChecked(id, "sudo", notAnswered(outcome));
  const stdout = outcome.stdout.trim();
  const stderr = firstLine(outcome.stderr);
  if (outcome.exitCode === 0) {
    return stdout === "0"
      ? pass(id, "passwordless sudo to root", "`sudo -n true` succeeded and `sudo -n id -u` printed 0")
      : fail(id, "sudo does not run as root", `\`sudo -n id -u\` printed ${JSON.stringify(stdout)}, not 0`);
  }
  if (/password is required/i.test(outcome.stderr)) {
    // sudo -n says this both for a rule without NOPASSWD and for no rule at all; without a password they look alike.
    return fail(id, "sudo requires a password", `\`sudo -n true\` failed: ${stderr}`);
  }
  if (/not in the sudoers|is not allowed to|may not run sudo/i.test(outcome.stderr)) {
    return fail(id, `sudo not allowed for ${user}`, `\`sudo -n true\` failed: ${stderr}`);
  }
  if (outcome.exitCode === 127 || /sudo: (command )?not found/i.test(outcome.stderr)) {
    return fail(id, "sudo not installed", stderr || "`sudo` was not found");
  }
  return fail(
    id,
    "sudo failed",
    `\`sudo -n true && sudo -n id -u\` exited ${outcome.exitCode}${stderr ? `: ${stderr}` : ""}`,
  );
}

export function rootLoginResult(outcome: SshOutcome): CheckResult {
  const id = "root-login-refused";
  switch (outcome.kind) {
    case "auth-refused":
      return pass(id, "root login refused", `the server refused the key for root: ${outcome.message}`);
    case "ran":
      return fail(
        id,
        "root login allowed",
        `the server accepted the key for root and ran \`true\` (exit ${outcome.exitCode})`,
      );
    default:
      return notChecked(
        id,
        "root login refusal",
        `could not tell whether the server refuses root: ${notAnswered(outcome)}`,
      );
  }
}

/** From one login attempt offering no credentials (PreferredAuthentications=none) and its `-v` output. */
export function authMethodResults(outcome: SshOutcome): CheckResult[] {
  const methods = [
    { id: "no-password-auth", method: "password", label: "password authentication" },
    {
      id: "no-keyboard-interactive-auth",
      method: "keyboard-interactive",
      label: "keyboard-interactive authentication",
    },
  ];
  if (outcome.kind === "ran") {
    return methods.map(({ id }) =>
      fail(
        id,
        "login without authentication allowed",
        'the server accepted the "none" authentication method',
      ),
    );
  }
  if (outcome.kind !== "auth-refused" || outcome.methods.length === 0) {
    const why =
      outcome.kind === "auth-refused"
        ? `the server's authentication methods could not be read: ${outcome.message}`
        : notAnswered(outcome);
    return methods.map(({ id, label }) => notChecked(id, label, why));
  }
  const offered = outcome.methods.join(",");
  return methods.map(({ id, method, label }) =>
    outcome.methods.includes(method)
      ? fail(id, `${label} offered`, `the server offers ${offered}`)
      : pass(id, `${label} not offered`, `the server offers ${offered}`),
  );
}

export function kernelResult(expected: string, outcome: SshOutcome): CheckResult {
  const id = "kernel";
  if (outcome.kind !== "ran") return notChecked(id, "kernel", notAnswered(outcome));
  const actual = outcome.stdout.trim();
  if (outcome.exitCode !== 0) {
    return notChecked(id, "kernel", `\`uname -r\` exited ${outcome.exitCode}: ${firstLine(outcome.stderr)}`);
  }
  return actual === expected
    ? pass(id, `kernel ${expected}`, `\`uname -r\` printed ${actual}`)
    : fail(id, "kernel mismatch", `expected ${expected}, \`uname -r\` printed ${JSON.stringify(actual)}`);
}

export function fileResult(path: string, outcome: SshOutcome): CheckResult {
  const id = `file:${path}`;
  if (outcome.kind !== "ran") return notChecked(id, path, notAnswered(outcome));
  if (outcome.exitCode === 0) return pass(id, `${path} exists`, "`test -f` found a regular file");
  if (outcome.exitCode === 1) return fail(id, `${path} missing`, "`test -f` found no regular file there");
  return notChecked(id, path, `\`test -f\` exited ${outcome.exitCode}: ${firstLine(outcome.stderr)}`);
}

export function formatBytes(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  return gib >= 1 ? `${gib.toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}

/** Total size of / in bytes from POSIX `df -P -k /` output (second line, second column, in KiB). */
export function parseDfSize(stdout: string): number | undefined {
  const fields = stdout.trim().split(/\r?\n/)[1]?.trim().split(/\s+/);
  const kib = Number(fields?.[1]);
  return Number.isFinite(kib) && kib > 0 ? kib * 1024 : undefined;
}

export function rootSizeResult(minBytes: number, outcome: SshOutcome): CheckResult {
  const id = "root-fs-size";
  if (outcome.kind !== "ran") return notChecked(id, "root filesystem size", notAnswered(outcome));
  const size = outcome.exitCode === 0 ? parseDfSize(outcome.stdout) : undefined;
  if (size === undefined) {
    return notChecked(
      id,
      "root filesystem size",
      `\`df -P -k /\` gave no size: ${firstLine(outcome.stderr || outcome.stdout)}`,
    );
  }
  const sizes = `/ is ${formatBytes(size)}, expected at least ${formatBytes(minBytes)}`;
  return size >= minBytes
    ? pass(id, `root filesystem ${formatBytes(size)}`, sizes)
    : fail(id, "root filesystem not grown", sizes);
}
