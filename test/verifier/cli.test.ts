// End to end: bin/nixos-image-verify.js against real sshd servers (see test/support/sshd.ts).
// Every run is started in `before`, concurrently, and each test awaits its own run: the file takes about as
// long as its slowest run (the key that appears late, about 6s) instead of the sum of all of them.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { freePort, makeKeyPair, startSshd } from "../support/sshd.ts";
import type { Sshd, SshdOptions } from "../support/sshd.ts";

const bin = fileURLToPath(new URL("../../bin/nixos-image-verify.js", import.meta.url));
const nodeDir = dirname(process.execPath);

interface Run {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  /** When the run ended, and when it first printed "waiting for" (so already started up). */
  endedAt: number;
  waitingAt: number | undefined;
}

function runCli(
  args: string[],
  options: { input?: string; env?: Record<string, string>; wrap?: string[] } = {},
): { result: Promise<Run>; waiting: Promise<void> } {
  let waitingAt: number | undefined;
  let onWaiting = () => {};
  const waiting = new Promise<void>((resolve) => (onWaiting = resolve));
  const [command, ...rest] = [...(options.wrap ?? []), process.execPath, bin, ...args] as [
    string,
    ...string[],
  ];
  const child = execa(command, rest, {
    reject: false,
    ...(options.input === undefined ? { stdin: "ignore" as const } : { input: options.input }),
    env: { PATH: `${nodeDir}${delimiter}${process.env.PATH ?? ""}`, ...options.env },
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    if (waitingAt === undefined && chunk.toString().includes("waiting for")) {
      waitingAt = Date.now();
      onWaiting();
    }
  });
  const result = child.then((done) => {
    onWaiting();
    return {
      exitCode: done.exitCode,
      stdout: String(done.stdout),
      stderr: String(done.stderr),
      endedAt: Date.now(),
      waitingAt,
    };
  });
  return { result, waiting };
}

/** `FAIL name: reason` lines → names. */
const failed = (run: Run) =>
  run.stdout
    .split("\n")
    .filter((line) => line.startsWith("FAIL "))
    .map((line) => line.slice(5).split(": ")[0]);

/** Files the machine's own SSH login and sudo depend on; the test servers must leave them as they were. */
const machineState = ["/etc/passwd", "/etc/shadow", "/etc/group", "/etc/sudoers"];
async function snapshot(): Promise<Record<string, string>> {
  const state: Record<string, string> = {};
  for (const file of machineState)
    state[file] = createHash("sha256")
      .update(await readFile(file))
      .digest("hex");
  state["/etc/sudoers.d"] = (await readdir("/etc/sudoers.d")).join(",");
  state["/run/sshd exists"] = String(existsSync("/run/sshd"));
  state["/root/.ssh"] = existsSync("/root/.ssh") ? (await readdir("/root/.ssh")).join(",") : "absent";
  return state;
}

describe("verifier/cli (bin/nixos-image-verify.js against real sshd)", function () {
  this.timeout(30_000);
  let machineBefore: Record<string, string>;
  const servers: Sshd[] = [];
  const runs = new Map<string, Promise<Run>>();
  let keyDir: string;
  let key: Awaited<ReturnType<typeof makeKeyPair>>;
  let otherKey: Awaited<ReturnType<typeof makeKeyPair>>;
  let sshLogDir: string;
  let stdinTmp: string;
  let closedPort: number;
  let lateKeyServer: Sshd;
  let lateKeyWritten: Promise<number>;

  const scenarios: {
    title: string;
    server: SshdOptions;
    args?: () => string[];
    /** --timeout; default 10. */
    timeout?: string;
    exitCode: number;
    failed: string[];
  }[] = [
    {
      title: "A key the server does not know fails key login",
      server: {},
      args: () => ["--identity", otherKey.privateKeyFile],
      // Refusals are retried until the timeout: kept short.
      timeout: "2",
      exitCode: 1,
      failed: ["key login as nixos refused", "sudo not checked"],
    },
    {
      title: "A server that lets root in with the key fails with root login allowed",
      server: { permitRootLogin: "prohibit-password", rootKeys: ["KEY"] },
      exitCode: 1,
      failed: ["root login allowed"],
    },
    {
      title: "A user whose sudo needs a password fails with sudo requires a password",
      server: { sudo: "password" },
      exitCode: 1,
      failed: ["sudo requires a password"],
    },
    {
      title: "A server offering passwords fails with password authentication offered",
      server: { passwordAuthentication: true },
      exitCode: 1,
      failed: ["password authentication offered"],
    },
    {
      title: "A server offering keyboard-interactive fails with keyboard-interactive authentication offered",
      server: { kbdInteractiveAuthentication: true },
      exitCode: 1,
      failed: ["keyboard-interactive authentication offered"],
    },
    {
      title: "A pinned host key that is not the server's fails with host key mismatch",
      server: {},
      args: () => ["--host-key-fingerprint", `SHA256:${"A".repeat(43)}`],
      exitCode: 1,
      failed: ["host key mismatch"],
    },
    {
      title: "The optional checks fail on another kernel, a missing file and a small root filesystem",
      server: {},
      args: () => [
        "--expect-kernel",
        "0.0.0-not-this-one",
        "--expect-file",
        "/etc/nixos/does-not-exist.nix",
        "--min-root-size",
        "1000T",
      ],
      exitCode: 1,
      failed: ["kernel mismatch", "/etc/nixos/does-not-exist.nix missing", "root filesystem not grown"],
    },
    { title: "A correct server passes every check and exits 0", server: {}, exitCode: 0, failed: [] },
    {
      title: "A correct server passes with its pinned host key",
      server: {},
      args: () => ["--host-key-fingerprint", servers[0]?.hostKeyFingerprint ?? ""],
      exitCode: 0,
      failed: [],
    },
    {
      title: "A correct server passes the optional checks when they hold",
      server: {},
      args: () => ["--expect-kernel", uname, "--expect-file", "/etc/passwd", "--min-root-size", "1M"],
      exitCode: 0,
      failed: [],
    },
  ];
  let uname: string;

  before(async () => {
    machineBefore = await snapshot();
    uname = (await execa("uname", ["-r"])).stdout.trim();
    keyDir = await mkdtemp(join(tmpdir(), "verifier-test-keys-"));
    [key, otherKey] = await Promise.all([makeKeyPair(keyDir, "id_nixos"), makeKeyPair(keyDir, "id_other")]);
    closedPort = await freePort();

    // One sshd per distinct configuration; servers[0] is the correct one. rootKeys entries stand for the test key.
    const configs = new Map<string, SshdOptions>();
    for (const { server } of scenarios) configs.set(JSON.stringify(server), server);
    // And one whose user has no key yet (lateKeyServer), as before cloud-init ran.
    const [started, late] = await Promise.all([
      Promise.all(
        [...configs.values()].map((options) =>
          startSshd({
            ...options,
            userKeys: [key.publicKey],
            rootKeys: (options.rootKeys ?? []).map(() => key.publicKey),
          }),
        ),
      ),
      startSshd(),
    ]);
    servers.push(...started, late);
    lateKeyServer = late;
    const serverFor = (options: SshdOptions) =>
      started[[...configs.keys()].indexOf(JSON.stringify(options))] as Sshd;
    const target = (server: Sshd, timeout = "10") => [
      "--host",
      server.host,
      "--port",
      String(server.port),
      "--timeout",
      timeout,
    ];
    const correct = servers[0] as Sshd;

    // Started first, and the rest only once it waits, so the CPU load of the other starts cannot blur its timing.
    const unreachable = runCli([
      "--host",
      "127.0.0.1",
      "--port",
      String(closedPort),
      "--identity",
      key.privateKeyFile,
      "--timeout",
      "3",
    ]);
    runs.set("unreachable", unreachable.result);
    await unreachable.waiting;

    // The slowest run, so started next: the key file appears 1.5s after the first refusal (the first progress
    // line), and the verifier keeps retrying until the key is accepted.
    const lateKey = runCli([...target(lateKeyServer, "20"), "--identity", key.privateKeyFile]);
    runs.set("late key", lateKey.result);
    lateKeyWritten = lateKey.waiting
      .then(() => new Promise((resolve) => setTimeout(resolve, 1500)))
      .then(() => lateKeyServer.setUserKeys([key.publicKey]))
      .then(() => Date.now());

    for (const scenario of scenarios) {
      const server = serverFor(scenario.server);
      const args = scenario.args?.() ?? [];
      const identity = args.includes("--identity") ? [] : ["--identity", key.privateKeyFile];
      runs.set(scenario.title, runCli([...target(server, scenario.timeout), ...identity, ...args]).result);
    }

    runs.set(
      "json",
      runCli([...target(serverFor({ sudo: "password" })), "--identity", key.privateKeyFile, "--json"]).result,
    );

    // A world-readable key file: the verifier uses its own 0600 copy (ssh would refuse the original).
    const looseKey = join(keyDir, "loose");
    await copyFile(key.privateKeyFile, looseKey);
    await chmod(looseKey, 0o644);
    runs.set("loose key", runCli([...target(correct), "--identity", looseKey]).result);

    runs.set(
      "home",
      runCli([...target(correct), "--identity", key.privateKeyFile], { wrap: emptyHome() }).result,
    );

    // --identity -: an `ssh` wrapper first on PATH logs its argv and the modes of the key file and its dir.
    sshLogDir = await mkdtemp(join(tmpdir(), "verifier-test-ssh-"));
    stdinTmp = await mkdtemp(join(tmpdir(), "verifier-test-tmpdir-"));
    await writeFile(
      join(sshLogDir, "ssh"),
      `#!/bin/sh
for arg in "$@"; do
  case "$arg" in IdentityFile=*) f="\${arg#IdentityFile=}"; stat -c 'mode %a %n' "$f" "$(dirname "$f")" >> "${sshLogDir}/log";; esac
done
printf 'argv %s\\n' "$*" >> "${sshLogDir}/log"
exec /usr/bin/ssh "$@"
`,
      { mode: 0o755 },
    );
    runs.set(
      "stdin",
      runCli([...target(correct), "--identity", "-"], {
        input: key.privateKey,
        env: {
          PATH: `${sshLogDir}${delimiter}${nodeDir}${delimiter}${process.env.PATH ?? ""}`,
          TMPDIR: stdinTmp,
        },
      }).result,
    );
  });

  // The CLI run with the home directory under an overlay, in a private mount namespace: everything in it
  // stays readable (Node itself may live there), and whatever the run writes lands in the overlay's upper
  // directory, which is listed afterwards. OpenSSH finds ~ from the password database, not $HOME.
  const emptyHome = (): string[] => {
    const upper = join(keyDir, "home-writes");
    const work = join(keyDir, "home-work");
    return [
      "unshare",
      "--mount",
      "--propagation",
      "private",
      "sh",
      "-c",
      `mkdir -p ${upper} ${work} && mount -t overlay verifier-home -o lowerdir=${homedir()},upperdir=${upper},workdir=${work} ${homedir()} && "$@"; code=$?; echo "home: $(ls -A ${upper})" >&2; exit $code`,
      "sh",
    ];
  };

  after(async () => {
    await Promise.allSettled([...runs.values(), lateKeyWritten]);
    await Promise.all(servers.map((server) => server.stop()));
    await Promise.all(
      [keyDir, sshLogDir, stdinTmp].map((dir) => dir && rm(dir, { recursive: true, force: true })),
    );
    assert.deepEqual(
      await snapshot(),
      machineBefore,
      "the test servers changed the machine's users, sudo or SSH state",
    );
  });

  const run = async (name: string) => {
    const result = await runs.get(name);
    assert.ok(result, `no run named ${name}`);
    return result;
  };

  for (const scenario of scenarios) {
    it(scenario.title, async () => {
      const result = await run(scenario.title);
      assert.deepEqual(failed(result), scenario.failed, result.stdout + result.stderr);
      assert.equal(result.exitCode, scenario.exitCode, result.stdout + result.stderr);
    });
  }

  it("Prints one PASS line per check, then an OK summary", async () => {
    const { stdout } = await run("A correct server passes every check and exits 0");
    assert.match(
      stdout,
      /^PASS SSH reachable on 127\.0\.0\.1:\d+\nPASS key login as nixos\nPASS passwordless sudo to root\nPASS root login refused\nPASS password authentication not offered\nPASS keyboard-interactive authentication not offered\nOK: all 6 checks passed on nixos@127\.0\.0\.1:\d+$/,
    );
  });

  it("Names the failing check and its reason on the FAIL line", async () => {
    const { stdout } = await run("A server that lets root in with the key fails with root login allowed");
    assert.match(stdout, /^FAIL root login allowed: the server accepted the key for root/m);
    assert.match(stdout, /^FAILED: 1 of 6 checks on nixos@127\.0\.0\.1:\d+: root login allowed$/m);
  });

  it("Fails with exit 3 within the timeout when nothing listens, saying so", async () => {
    const result = await run("unreachable");
    assert.equal(result.exitCode, 3, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      new RegExp(
        `^FAIL SSH unreachable: could not open an SSH connection to 127\\.0\\.0\\.1:${closedPort} within 3s \\(last error: connection refused\\)$`,
        "m",
      ),
    );
    assert.match(
      result.stderr,
      new RegExp(
        `^waiting for 127\\.0\\.0\\.1:${closedPort} \\(\\d+s/3s, connection refused\\)\\.\\.\\.$`,
        "m",
      ),
    );
    // From its first attempt (about 0s into the wait) to its exit: the 3s timeout plus a little.
    const waited = result.endedAt - (result.waitingAt ?? 0);
    assert.ok(waited >= 2500 && waited < 4500, `waited ${waited}ms`);
  });

  it("Retries a refused key until the key is installed, then passes within the timeout", async () => {
    const result = await run("late key");
    const writtenAt = await lateKeyWritten;
    assert.equal(result.exitCode, 0, result.stdout + result.stderr + lateKeyServer.log());
    assert.match(
      result.stderr,
      /^waiting for 127\.0\.0\.1:\d+ \(\d+s\/20s, key refused so far, retrying \(cloud-init may not have installed it yet\)\)\.\.\.$/m,
    );
    assert.ok(result.endedAt > writtenAt, "passed before the key was installed");
    // A refused key is retried after 6s (refusedRetryDelayMs): it passed on that second attempt, not a third.
    const waited = result.endedAt - (result.waitingAt ?? 0);
    assert.ok(waited >= 6000 && waited < 11_000, `waited ${waited}ms`);
  });

  it("Reports a key still refused when the timeout passes as a failing key login (exit 1), after the timeout", async () => {
    const result = await run("A key the server does not know fails key login");
    assert.equal(result.exitCode, 1, result.stdout + result.stderr);
    assert.match(
      result.stdout,
      /^FAIL key login as nixos refused: the server refused the key: .*Permission denied \(publickey\)\. \(still refused when the 2s timeout passed\)$/m,
    );
    assert.match(result.stdout, /^PASS SSH reachable on /m);
    assert.match(result.stderr, /key refused so far, retrying/);
    // From its first refusal (printed once that attempt is over) to its exit: the rest of the 2s timeout,
    // then the remaining checks.
    const waited = result.endedAt - (result.waitingAt ?? 0);
    assert.ok(waited >= 1000 && waited < 5000, `waited ${waited}ms`);
  });

  it("Prints one JSON document {host, port, user, ok, checks} with --json", async () => {
    const result = await run("json");
    const report = JSON.parse(result.stdout) as Record<string, unknown> & {
      checks: Record<string, unknown>[];
    };
    assert.deepEqual(Object.keys(report), ["host", "port", "user", "ok", "checks"]);
    assert.equal(report.ok, false);
    assert.equal(report.user, "nixos");
    for (const check of report.checks) assert.deepEqual(Object.keys(check), ["id", "name", "ok", "reason"]);
    assert.deepEqual(
      report.checks.filter((check) => check.ok === false).map((check) => [check.id, check.name]),
      [["sudo", "sudo requires a password"]],
    );
    assert.equal(result.exitCode, 1);
  });

  it("Uses a key file others can read through its own private copy", async () => {
    const result = await run("loose key");
    assert.equal(result.exitCode, 0, result.stdout + result.stderr);
  });

  it("Reads the key from stdin with --identity -, hands ssh a 0600 file in a 0700 dir, and removes it", async () => {
    const result = await run("stdin");
    assert.equal(result.exitCode, 0, result.stdout + result.stderr);
    const log = await readFile(join(sshLogDir, "log"), "utf8");
    const modes = [...log.matchAll(/^mode (\d+) (\S+)$/gm)].map(
      (match) => `${match[1]} ${match[2]?.replace(/\/nixos-image-verify-[^/]+/, "/nixos-image-verify-*")}`,
    );
    assert.ok(modes.length >= 8, log);
    assert.deepEqual(
      new Set(modes),
      new Set([`600 ${stdinTmp}/nixos-image-verify-*/identity`, `700 ${stdinTmp}/nixos-image-verify-*`]),
    );
    const body = key.privateKey.split("\n")[1] ?? "";
    assert.ok(body.length > 20);
    for (const text of [log, result.stdout, result.stderr])
      assert.ok(!text.includes(body), "the private key leaked");
    const left = (await readdir(stdinTmp)).filter((name) => name.startsWith("nixos-image-verify-"));
    assert.deepEqual(left, [], "the key's temp dir was left behind");
  });

  it("Never writes to the home directory (no ~/.ssh/known_hosts, no ~/.ssh)", async () => {
    const result = await run("home");
    assert.equal(result.exitCode, 0, result.stdout + result.stderr);
    assert.match(result.stderr, /^home: $/m);
  });

  describe("bad usage exits 2 naming the flag", () => {
    const cases: { title: string; args: string[]; message: RegExp }[] = [
      {
        title: "a missing --identity",
        args: ["--host", "127.0.0.1"],
        message: /"--identity" option is required/,
      },
      {
        title: "--port 70000",
        args: ["--host", "127.0.0.1", "--identity", "k", "--port", "70000"],
        message: /"--port" option must be an integer from 1 to 65535: "70000"/,
      },
      {
        title: "a fingerprint in the wrong format",
        args: ["--host", "127.0.0.1", "--identity", "k", "--host-key-fingerprint", "ab:cd"],
        message: /"--host-key-fingerprint" option must be "SHA256:".*: "ab:cd"/,
      },
      {
        title: "a key file that does not exist",
        args: ["--host", "127.0.0.1", "--identity", "/nonexistent/key"],
        message: /"--identity" option must name a readable private key file: "\/nonexistent\/key" \(ENOENT\)/,
      },
      {
        title: "stdin that is not a private key",
        args: ["--host", "127.0.0.1", "--identity", "-"],
        message:
          /"--identity" option must be an unencrypted OpenSSH private key: the key read from stdin is not one/,
      },
    ];
    const usageRuns = new Map<string, Promise<Run>>();
    before(() => {
      for (const { title, args } of cases)
        usageRuns.set(title, runCli(args, { input: "not a key\n" }).result);
    });
    for (const { title, message } of cases) {
      it(`Rejects ${title}`, async () => {
        const result = await usageRuns.get(title);
        assert.ok(result);
        assert.equal(result.exitCode, 2, result.stderr);
        assert.match(result.stderr, message);
        assert.equal(result.stdout, "");
      });
    }
  });
});
