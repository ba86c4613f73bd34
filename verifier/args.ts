// Command-line parsing and validation: pure functions, no I/O.
import type { Jump } from "./jump.ts";

/** A mistake in how the verifier was called; the CLI prints the message and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export interface CliOptions {
  /** Host name or IP address of the machine to check. Required. */
  host: string;
  /** SSH port. Default 22. */
  port: number;
  /** The unprivileged user that logs in with the key. Default "nixos". */
  user: string;
  /** Private key file, or "-" to read the key from stdin. Required. */
  identity: string;
  /** How long to wait for SSH to come up, in seconds. Default 300. */
  timeoutSeconds: number;
  /** Pinned `SHA256:...` host key fingerprint; without it the first key seen is accepted. */
  hostKeyFingerprint?: string;
  /** Print one JSON document instead of one line per check. Default false. */
  json: boolean;
  /** Expected `uname -r` of the running kernel; unchecked when absent. */
  expectKernel?: string;
  /** Absolute paths of regular files that must exist, e.g. /etc/nixos/configuration.nix. */
  expectFiles: string[];
  /** Minimum size of the root filesystem in bytes (proves it was grown to the disk); unchecked when absent. */
  minRootSizeBytes?: number;
  /** A bastion to reach the host through (`ssh -J`), with its own OpenSSH config file if given. */
  proxyJump?: Jump;
}

export type ParsedArgs = { help: true } | { help: false; options: CliOptions };

export const usage = `Usage: nixos-image-verify --host HOST --identity KEYFILE|- [options]

Checks a freshly booted NixOS machine over SSH: key login as the user, passwordless sudo,
root login refused, no password or keyboard-interactive authentication offered.

  --host HOST                    machine to check (required)
  --port PORT                    SSH port (default 22)
  --user USER                    user that logs in with the key (default nixos)
  --identity KEYFILE|-           private key; "-" reads it from stdin (required)
  --timeout SECONDS              how long to wait for SSH and the key (default 300)
  --host-key-fingerprint SHA256:...  pin the server's host key
  --expect-kernel RELEASE        require \`uname -r\` to print RELEASE
  --expect-file PATH             require a regular file to exist (repeatable)
  --min-root-size SIZE           require the root filesystem to be at least SIZE (e.g. 8G)
  --proxy-jump [USER@]HOST[:PORT]  reach the machine through this bastion, as ssh -J does
  --jump-config FILE             OpenSSH client config for the hop to the bastion (default ~/.ssh/config)
  --json                         print one JSON document
  --help                         show this help

Exit codes: 0 all checks passed, 1 a check failed, 2 bad usage, 3 SSH unreachable within the timeout.`;

const valueFlags = [
  "host",
  "port",
  "user",
  "identity",
  "timeout",
  "host-key-fingerprint",
  "expect-kernel",
  "expect-file",
  "min-root-size",
  "proxy-jump",
  "jump-config",
] as const;
type ValueFlag = (typeof valueFlags)[number];
const repeatable: ReadonlySet<ValueFlag> = new Set(["expect-file"]);

function fail(flag: string, rule: string, value: string): never {
  throw new UsageError(`The "--${flag}" option ${rule}: ${JSON.stringify(value)}.`);
}

/** Host names (RFC 1123 labels), IPv4 addresses and IPv6 literals (bare or in brackets). */
export function validateHost(value: string): string {
  const unbracketed = value.replace(/^\[(.*)\]$/, "$1");
  const hostname =
    /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
  const ipv6 = /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/;
  if (hostname.test(unbracketed) || ipv6.test(unbracketed)) return unbracketed;
  return fail("host", "must be a host name or an IP address", value);
}

export function validatePort(value: string): number {
  const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
  if (port >= 1 && port <= 65535) return port;
  return fail("port", "must be an integer from 1 to 65535", value);
}

export function validateUser(value: string): string {
  if (!/^[a-z_][a-z0-9_.-]{0,31}$/.test(value)) {
    fail(
      "user",
      "must be a user name (lowercase letters, digits, _ . -, not starting with a digit or -)",
      value,
    );
  }
  if (value === "root") {
    fail("user", "must be an unprivileged user, since the verifier checks that root login is refused", value);
  }
  return value;
}

export function validateTimeout(value: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (seconds > 0 && seconds <= 86400) return seconds;
  return fail("timeout", "must be a number of seconds greater than 0 and at most 86400", value);
}

/** Accepts the form `ssh-keygen -l` prints: `SHA256:` and 43 base64 characters (a trailing "=" is dropped). */
export function validateFingerprint(value: string): string {
  if (/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(value)) return value.replace(/=$/, "");
  return fail(
    "host-key-fingerprint",
    'must be "SHA256:" followed by 43 base64 characters, as printed by ssh-keygen -l',
    value,
  );
}

export function validateKernel(value: string): string {
  if (/^[A-Za-z0-9._+~-]+$/.test(value)) return value;
  return fail("expect-kernel", "must be a kernel release as printed by uname -r", value);
}

export function validateFile(value: string): string {
  if (/^\/[^\0\n]*$/.test(value)) return value;
  return fail("expect-file", "must be an absolute path", value);
}

/** `user@host[:port]`, `host`, `[v6]:port`, as `ssh -J` takes one hop. */
export function parseJump(value: string): Jump {
  const match = /^(?:([a-z_][a-z0-9_.-]{0,31})@)?(\[[^\]]+\]|[^:@[\]]+)(?::(\d{1,5}))?$/.exec(value);
  const port = match?.[3] === undefined ? undefined : Number(match[3]);
  let host: string | undefined;
  try {
    host = match?.[2] === undefined ? undefined : validateHost(match[2]);
  } catch {
    host = undefined;
  }
  if (match === null || host === undefined || (port !== undefined && !(port >= 1 && port <= 65535))) {
    fail(
      "proxy-jump",
      "must be [user@]host[:port] (a user name, a host name or IP address, a port 1-65535)",
      value,
    );
  }
  const jump: Jump = { host };
  if (match[1] !== undefined) jump.user = match[1];
  if (port !== undefined) jump.port = port;
  return jump;
}

/** An absolute path without characters the shell or OpenSSH's % expansion would read differently. */
export function validateConfigFile(value: string): string {
  if (/^\/[A-Za-z0-9._\/+-]*$/.test(value)) return value;
  return fail("jump-config", "must be an absolute path of letters, digits and . _ / + -", value);
}

/** Sizes like 512M, 8G, 1.5T (powers of 1024) or a plain byte count. */
export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(value);
  const units: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };
  const bytes = match ? Number(match[1]) * (units[(match[2] ?? "").toUpperCase()] ?? NaN) : NaN;
  if (bytes > 0) return Math.floor(bytes);
  return fail("min-root-size", "must be a size such as 512M, 8G or 1.5T", value);
}

/** Parses argv (without node and the script); throws UsageError naming the flag, the rule and the value. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values = new Map<ValueFlag, string[]>();
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--help" || arg === "-h") return { help: true };
    if (arg === "--json") {
      json = true;
      continue;
    }
    const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
    const flag = valueFlags.find((name) => name === match?.[1]);
    if (match === null || flag === undefined) {
      throw new UsageError(
        arg.startsWith("-")
          ? `Unknown option "${arg.split("=")[0]}"; see --help.`
          : `Unexpected argument "${arg}"; see --help.`,
      );
    }
    let value = match[2];
    if (value === undefined) {
      value = argv[i + 1];
      // "-" is a value (stdin); anything else starting with "--" is the next option, not a value.
      if (value === undefined || value.startsWith("--")) {
        throw new UsageError(`The "--${flag}" option needs a value.`);
      }
      i++;
    }
    const previous = values.get(flag) ?? [];
    if (previous.length > 0 && !repeatable.has(flag)) {
      throw new UsageError(`The "--${flag}" option can be given only once.`);
    }
    values.set(flag, [...previous, value]);
  }
  const one = (flag: ValueFlag) => values.get(flag)?.[0];
  const host = one("host");
  if (host === undefined) throw new UsageError('The "--host" option is required.');
  const identity = one("identity");
  if (identity === undefined) {
    throw new UsageError(
      'The "--identity" option is required: a private key file, or "-" to read the key from stdin.',
    );
  }
  if (identity === "") fail("identity", 'must be a private key file or "-"', identity);
  const optional = <T>(flag: ValueFlag, validate: (value: string) => T) => {
    const value = one(flag);
    return value === undefined ? undefined : validate(value);
  };
  const options: CliOptions = {
    host: validateHost(host),
    port: optional("port", validatePort) ?? 22,
    user: optional("user", validateUser) ?? "nixos",
    identity,
    timeoutSeconds: optional("timeout", validateTimeout) ?? 300,
    json,
    expectFiles: (values.get("expect-file") ?? []).map(validateFile),
  };
  const fingerprint = optional("host-key-fingerprint", validateFingerprint);
  if (fingerprint !== undefined) options.hostKeyFingerprint = fingerprint;
  const kernel = optional("expect-kernel", validateKernel);
  if (kernel !== undefined) options.expectKernel = kernel;
  const minRoot = optional("min-root-size", parseSize);
  if (minRoot !== undefined) options.minRootSizeBytes = minRoot;
  const jump = optional("proxy-jump", parseJump);
  const jumpConfig = optional("jump-config", validateConfigFile);
  if (jumpConfig !== undefined && jump === undefined)
    throw new UsageError(
      'The "--jump-config" option needs "--proxy-jump": it configures the hop to the bastion.',
    );
  if (jump !== undefined)
    options.proxyJump = jumpConfig === undefined ? jump : { ...jump, configFile: jumpConfig };
  return { help: false, options };
}
