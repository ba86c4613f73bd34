// The programmatic API, in-process (the CLI end-to-end runs are in cli.test.ts).
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { UsageError } from "../../verifier/args.ts";
import { exitCodeFor } from "../../verifier/report.ts";
import { verify } from "../../verifier/verify.ts";
import { freePort, makeKeyPair, startSshd } from "../support/sshd.ts";
import type { Sshd } from "../support/sshd.ts";

describe("verifier/verify", function () {
  this.timeout(20_000);
  let dir: string;
  let key: Awaited<ReturnType<typeof makeKeyPair>>;
  let server: Sshd;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "verifier-test-verify-"));
    key = await makeKeyPair(dir, "id");
    server = await startSshd({ userKeys: [key.publicKey] });
  });

  after(async () => {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("Rejects a passphrase-protected key before connecting, naming --identity", async () => {
    const encrypted = join(dir, "encrypted");
    await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "secret", "-f", encrypted]);
    await assert.rejects(
      verify({
        host: server.host,
        port: server.port,
        privateKey: await readFile(encrypted, "utf8"),
        keySource: "stdin",
      }),
      (error: unknown) =>
        error instanceof UsageError &&
        /"--identity" option must be an unencrypted OpenSSH private key: stdin/.test(error.message),
    );
  });

  it("Reports an unreachable machine, with progress, once the timeout has passed", async () => {
    const progress: string[] = [];
    const port = await freePort();
    const report = await verify({
      host: "127.0.0.1",
      port,
      privateKey: key.privateKey,
      timeoutSeconds: 0.5,
      onProgress: (line) => progress.push(line),
    });
    assert.equal(exitCodeFor(report), 3);
    assert.deepEqual(
      report.checks.map((check) => [check.id, check.ok]),
      [["ssh-reachable", false]],
    );
    assert.deepEqual(progress, [`waiting for 127.0.0.1:${port} (0s/0.5s, connection refused)...`]);
  });

  it("Retries a refused key until the timeout, then reports it as a failing key login (exit 1)", async () => {
    const progress: string[] = [];
    const other = await makeKeyPair(dir, "other");
    const started = Date.now();
    const report = await verify({
      host: server.host,
      port: server.port,
      privateKey: other.privateKey,
      timeoutSeconds: 1,
      onProgress: (line) => progress.push(line),
    });
    assert.ok(Date.now() - started >= 1000, "reported before the timeout passed");
    assert.equal(exitCodeFor(report), 1);
    assert.deepEqual(
      report.checks.slice(0, 3).map((check) => [check.id, check.name]),
      [
        ["ssh-reachable", `SSH reachable on ${server.host}:${server.port}`],
        ["key-login", "key login as nixos refused"],
        ["sudo", "sudo not checked"],
      ],
    );
    assert.match(report.checks[1]?.reason ?? "", /\(still refused when the 1s timeout passed\)$/);
    assert.equal(progress.length, 1, progress.join("\n"));
    assert.match(
      progress[0] ?? "",
      /^waiting for 127\.0\.0\.1:\d+ \(\ds\/1s, key refused so far, retrying \(cloud-init may not have installed it yet\)\)\.\.\.$/,
    );
  });

  it("Returns every check of a correct server, in order, all passing", async () => {
    const report = await verify({
      host: server.host,
      port: server.port,
      privateKey: key.privateKey,
      timeoutSeconds: 5,
    });
    assert.deepEqual(
      report.checks.map((check) => [check.id, check.ok]),
      [
        ["ssh-reachable", true],
        ["key-login", true],
        ["sudo", true],
        ["root-login-refused", true],
        ["no-password-auth", true],
        ["no-keyboard-interactive-auth", true],
      ],
    );
    assert.deepEqual(
      [report.host, report.port, report.user, report.ok],
      [server.host, server.port, "nixos", true],
    );
  });
});
