// A real OpenSSH server for verifier tests, isolated from the machine running them.
//
// Each server runs in its own mount namespace (`unshare --mount --propagation private`). Inside it,
// throwaway copies of /etc/passwd, /etc/shadow, /etc/group, /etc/sudoers and /etc/sudoers.d are
// bind-mounted over the real ones; they add a user `nixos` (home in the temp dir, shell /bin/sh) and
// the scenario's sudo rule. tmpfs is mounted over /run (giving sshd its /run/sshd privilege-separation
// directory and sudo its timestamp directory) and over /var/log. The user, the sudo rule and anything
// written to those directories exist only in the namespace and vanish when sshd exits: the machine's
// own users, sudo and SSH configuration are never touched. sshd reads only the config written here.
import { execa } from "execa";
import type { ResultPromise } from "execa";
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface SshdOptions {
  /** The sshd `PermitRootLogin` value. Default "no". */
  permitRootLogin?: "no" | "prohibit-password" | "yes";
  /** The sshd `PasswordAuthentication` value. Default false. */
  passwordAuthentication?: boolean;
  /** The sshd `KbdInteractiveAuthentication` value. Default false. */
  kbdInteractiveAuthentication?: boolean;
  /** The sudo rule for `nixos`: NOPASSWD, a password required, or no rule at all. Default "nopasswd". */
  sudo?: "nopasswd" | "password" | "none";
  /** Public keys (one `ssh-ed25519 AAAA...` line each) authorized for `nixos`. Default none (no keys file). */
  userKeys?: string[];
  /** Public keys authorized for root. Default none (no keys file). */
  rootKeys?: string[];
  /** The sshd `AllowTcpForwarding` value: true for a bastion (`ssh -W`). Default false. */
  allowTcpForwarding?: boolean;
  /** Where to listen; default 127.0.0.1 on a free port (in `netns`, when given). */
  listen?: { address: string; port: number };
  /** A command that runs sshd where it should run (e.g. `ip netns exec NS`, a router's namespace for a bastion). */
  prefix?: string[];
}

export interface Sshd {
  host: string;
  port: number;
  /** `SHA256:...` fingerprint of the server's only host key. */
  hostKeyFingerprint: string;
  /** The host key as a known_hosts line for this address and port (a client's pin of it). */
  knownHostsLine: string;
  /** What sshd wrote to stderr so far (it runs with -e), for debugging a failing test. */
  log(): string;
  /** Replaces the keys authorized for `nixos` while sshd runs, as cloud-init does some time after boot. */
  setUserKeys(keys: string[]): Promise<void>;
  stop(): Promise<void>;
}

export const testUser = "nixos";

/** The OpenSSH server these tests run; Debian's package openssh-server has it, and scripts/try.sh installs it. */
export const SSHD = process.env.NCI_SSHD ?? "/usr/sbin/sshd";

/** Without sshd, one line that says what to install instead of "sshd exited (127)" and a stack trace. */
function assertSshdInstalled(): void {
  if (existsSync(SSHD)) return;
  const error = new Error(`${SSHD} is missing: install openssh-server (apt-get install openssh-server)`);
  error.stack = error.message;
  throw error;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no TCP address");
  return address.port;
}

/** Generates an unencrypted ed25519 key pair in dir; returns the private key path and public key line. */
export async function makeKeyPair(
  dir: string,
  name: string,
): Promise<{ privateKeyFile: string; privateKey: string; publicKey: string }> {
  const privateKeyFile = join(dir, name);
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", privateKeyFile]);
  return {
    privateKeyFile,
    privateKey: await readFile(privateKeyFile, "utf8"),
    publicKey: (await readFile(`${privateKeyFile}.pub`, "utf8")).trim(),
  };
}

export async function fingerprintOf(publicKeyFile: string): Promise<string> {
  const { stdout } = await execa("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyFile]);
  const fingerprint = stdout.split(" ")[1];
  if (fingerprint === undefined) throw new Error(`unexpected ssh-keygen output: ${stdout}`);
  return fingerprint;
}

function firstFreeId(file: string, start: number): number {
  const used = new Set(
    file
      .split("\n")
      .map((line) => Number(line.split(":")[2]))
      .filter(Number.isInteger),
  );
  let id = start;
  while (used.has(id)) id++;
  return id;
}

function withoutEntry(file: string, name: string): string {
  return file
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith(`${name}:`))
    .map((line) => `${line}\n`)
    .join("");
}

async function writeSystemFiles(dir: string, options: SshdOptions): Promise<void> {
  const etc = join(dir, "etc");
  await mkdir(join(etc, "sudoers.d"), { recursive: true });
  const home = join(dir, "home");
  const [passwd, group, shadow] = await Promise.all(
    ["/etc/passwd", "/etc/group", "/etc/shadow"].map((file) => readFile(file, "utf8")),
  );
  const uid = firstFreeId(passwd, 29000);
  const gid = firstFreeId(group, uid);
  await mkdir(home, { mode: 0o755 });
  await execa("chown", [`${uid}:${gid}`, home]);
  await writeFile(
    join(etc, "passwd"),
    `${withoutEntry(passwd, testUser)}${testUser}:x:${uid}:${gid}:verifier test user:${home}:/bin/sh\n`,
  );
  await writeFile(join(etc, "group"), `${withoutEntry(group, testUser)}${testUser}:x:${gid}:\n`);
  // "*" (no password, not locked): with UsePAM no, sshd refuses key logins to accounts locked with "!".
  const rootShadow = shadow.split("\n").find((line) => line.startsWith("root:"));
  const unlockedRoot = (rootShadow ?? "root:*:20000:0:99999:7:::").replace(/^root:[^:]*:/, "root:*:");
  await writeFile(
    join(etc, "shadow"),
    `${withoutEntry(withoutEntry(shadow, "root"), testUser)}${unlockedRoot}\n${testUser}:*:20000:0:99999:7:::\n`,
    { mode: 0o640 },
  );
  const rule = {
    nopasswd: `${testUser} ALL=(ALL:ALL) NOPASSWD: ALL\n`,
    password: `${testUser} ALL=(ALL:ALL) ALL\n`,
    none: "",
  }[options.sudo ?? "nopasswd"];
  const sudoers = join(etc, "sudoers");
  await writeFile(
    sudoers,
    "Defaults env_reset\nDefaults !syslog\nDefaults !fqdn\nDefaults lecture=never\n" +
      `root ALL=(ALL:ALL) ALL\n${rule}`,
  );
  await chmod(sudoers, 0o440);
}

/** Writes `%u.keys` whole (a temp file renamed over it), so a login sshd handles meanwhile never sees half of it. */
async function writeAuthorizedKeys(dir: string, user: string, keys: string[] | undefined): Promise<void> {
  if (keys === undefined) return;
  const file = join(dir, "keys", `${user}.keys`);
  // sshd reads authorized keys as the target user, so these (public) files are world-readable.
  await writeFile(`${file}.tmp`, keys.map((k) => `${k}\n`).join(""), { mode: 0o644 });
  await rename(`${file}.tmp`, file);
}

async function writeSshdFiles(
  dir: string,
  address: string,
  port: number,
  options: SshdOptions,
): Promise<string> {
  const keys = join(dir, "keys");
  await mkdir(keys, { mode: 0o755, recursive: true });
  await writeAuthorizedKeys(dir, testUser, options.userKeys);
  await writeAuthorizedKeys(dir, "root", options.rootKeys);
  const hostKey = join(dir, "ssh_host_ed25519_key");
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "verifier-test-host", "-f", hostKey]);
  const yesNo = (value: boolean | undefined) => (value === true ? "yes" : "no");
  const config = join(dir, "sshd_config");
  await writeFile(
    config,
    [
      `ListenAddress ${address}:${port}`,
      `HostKey ${hostKey}`,
      "PidFile none",
      `AuthorizedKeysFile ${keys}/%u.keys`,
      "UsePAM no",
      "StrictModes no",
      `PermitRootLogin ${options.permitRootLogin ?? "no"}`,
      "PubkeyAuthentication yes",
      `PasswordAuthentication ${yesNo(options.passwordAuthentication)}`,
      `KbdInteractiveAuthentication ${yesNo(options.kbdInteractiveAuthentication)}`,
      "PermitEmptyPasswords no",
      "X11Forwarding no",
      `AllowTcpForwarding ${yesNo(options.allowTcpForwarding)}`,
      "PrintMotd no",
      "PrintLastLog no",
      "UseDNS no",
      "MaxStartups 100",
      // Faster than the default post-quantum sntrup761 exchange; the tests test the verifier, not KEX.
      "KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org",
      "LogLevel VERBOSE",
      "",
    ].join("\n"),
  );
  return config;
}

function namespaceScript(dir: string, config: string): string {
  const etc = join(dir, "etc");
  return [
    "set -eu",
    "mount -t tmpfs -o mode=0755 verifier-test-run /run",
    "mkdir -m 0755 /run/sshd",
    "mount -t tmpfs -o mode=0755 verifier-test-log /var/log",
    ...["passwd", "shadow", "group", "sudoers", "sudoers.d"].map(
      (name) => `mount --bind ${etc}/${name} /etc/${name}`,
    ),
    `exec ${SSHD} -D -e -f ${config}`,
  ].join("\n");
}

async function launch(
  dir: string,
  address: string,
  port: number,
  config: string,
  prefix: string[] = [],
): Promise<{ child: ResultPromise; log: () => string }> {
  let log = "";
  const unshare = [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "/bin/sh",
    "-c",
    namespaceScript(dir, config),
  ];
  const [command = "", ...args] = [...prefix, ...unshare];
  const child = execa(command, args, {
    reject: false,
    stdin: "ignore",
    buffer: false,
  });
  child.stderr?.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const ready = `Server listening on ${address} port ${port}.`;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start within 5s:\n${log}`)), 5000);
    const onData = () => {
      if (log.includes(ready)) {
        clearTimeout(timer);
        child.stderr?.off("data", onData);
        resolve();
      }
    };
    child.stderr?.on("data", onData);
    void child.then((result) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited (${result.exitCode ?? result.signal}) before listening:\n${log}`));
    });
  });
  return { child, log: () => log };
}

/** Starts sshd (on a free port of 127.0.0.1 unless `listen` says otherwise); call stop() (e.g. in an `after` hook). */
export async function startSshd(options: SshdOptions = {}): Promise<Sshd> {
  assertSshdInstalled();
  const dir = await mkdtemp(join(tmpdir(), "verifier-sshd-"));
  // Traversable by the test user: sshd opens the authorized keys file and chdirs home as that user.
  await chmod(dir, 0o755);
  try {
    await writeSystemFiles(dir, options);
    for (let attempt = 1; ; attempt++) {
      const address = options.listen?.address ?? "127.0.0.1";
      const port = options.listen?.port ?? (await freePort());
      const config = await writeSshdFiles(dir, address, port, options);
      try {
        const { child, log } = await launch(dir, address, port, config, options.prefix);
        const hostKeyFingerprint = await fingerprintOf(join(dir, "ssh_host_ed25519_key.pub"));
        const [type, key] = (await readFile(join(dir, "ssh_host_ed25519_key.pub"), "utf8")).split(" ");
        const knownHostsLine = `${port === 22 ? address : `[${address}]:${port}`} ${type} ${key}`;
        return {
          host: address,
          port,
          hostKeyFingerprint,
          knownHostsLine,
          log,
          setUserKeys: (keys) => writeAuthorizedKeys(dir, testUser, keys),
          async stop() {
            child.kill("SIGTERM");
            await child;
            await rm(dir, { recursive: true, force: true });
          },
        };
      } catch (error) {
        // Another test may have taken the port between freePort() and sshd binding it.
        if (attempt >= 3 || !String(error).includes("Address already in use")) throw error;
        await rm(join(dir, "ssh_host_ed25519_key"), { force: true });
        await rm(join(dir, "ssh_host_ed25519_key.pub"), { force: true });
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * An OpenSSH client config for the hop to a bastion, as a deployer would have it: its key, and the bastion's
 * host key known beforehand (never trusted on first use). Returns the file's path.
 */
export async function writeJumpConfig(dir: string, identityFile: string, bastion: Sshd): Promise<string> {
  const knownHosts = join(dir, "bastion_known_hosts");
  await writeFile(knownHosts, `${bastion.knownHostsLine}\n`);
  const config = join(dir, "jump_config");
  await writeFile(
    config,
    [
      `IdentityFile ${identityFile}`,
      "IdentitiesOnly yes",
      `UserKnownHostsFile ${knownHosts}`,
      "GlobalKnownHostsFile /dev/null",
      "StrictHostKeyChecking yes",
      "",
    ].join("\n"),
  );
  return config;
}
