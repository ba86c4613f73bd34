// The programmatic API, in-process (the CLI end-to-end runs are in cli.test.ts).
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { UsageError } from "../../verifier/args.ts";
import { exitCodeFor } from "../../verifier/report.ts";
import { verify } from "../../verifier/verify.ts";
import { freePort, makeKeyPair, startSshd, writeJumpConfig } from "../support/sshd.ts";
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

  describe("through a bastion (--proxy-jump)", () => {
    let bastion: Sshd;
    let jumpConfig: string;
    const jump = () => ({ user: "nixos", host: bastion.host, port: bastion.port, configFile: jumpConfig });

    before(async () => {
      const bastionKey = await makeKeyPair(dir, "bastion-id");
      bastion = await startSshd({ userKeys: [bastionKey.publicKey], allowTcpForwarding: true });
      // The deployer's own configuration for the hop: its key, and the bastion's host key already known.
      jumpConfig = await writeJumpConfig(dir, bastionKey.privateKeyFile, bastion);
    });

    after(async () => bastion?.stop());

    it("Passes every check through the bastion, with the host key pinned through it", async () => {
      const report = await verify({
        host: server.host,
        port: server.port,
        privateKey: key.privateKey,
        timeoutSeconds: 10,
        hostKeyFingerprint: server.hostKeyFingerprint,
        proxyJump: jump(),
      });
      assert.equal(report.ok, true, JSON.stringify(report, null, 2));
      assert.equal(
        report.checks[0]?.name,
        `SSH reachable on ${server.host}:${server.port} through nixos@${bastion.host}:${bastion.port}`,
      );
      assert.ok(report.checks.some((check) => check.id === "host-key" && check.ok));
      // The hop really went through the bastion: the deployer's key logged in there.
      assert.match(bastion.log(), /Accepted publickey for nixos from 127\.0\.0\.1/);
    });

    it("Reports a host key that is not the pinned one, as scanned through the bastion", async () => {
      const report = await verify({
        host: server.host,
        port: server.port,
        privateKey: key.privateKey,
        timeoutSeconds: 10,
        hostKeyFingerprint: `SHA256:${"A".repeat(43)}`,
        proxyJump: jump(),
      });
      const mismatch = report.checks.find((check) => check.id === "host-key");
      assert.equal(mismatch?.ok, false);
      assert.match(
        mismatch?.reason ?? "",
        new RegExp(`offers ${server.hostKeyFingerprint.replace(/[+/]/g, "\\$&")} \\(ssh-ed25519\\)`),
      );
    });

    it("Never trusts a bastion it does not know, even when the hop's config would accept a new key: unreachable, with the hop's own message", async () => {
      const lenient = join(dir, "jump_config_unknown");
      await writeFile(
        lenient,
        (await readFile(jumpConfig, "utf8"))
          .replace(/UserKnownHostsFile .*/, `UserKnownHostsFile ${join(dir, "empty_known_hosts")}`)
          .replace(/StrictHostKeyChecking .*/, "StrictHostKeyChecking accept-new"),
      );
      const report = await verify({
        host: server.host,
        port: server.port,
        privateKey: key.privateKey,
        timeoutSeconds: 5,
        proxyJump: { ...jump(), configFile: lenient },
      });
      assert.equal(exitCodeFor(report), 3);
      assert.match(report.checks[0]?.reason ?? "", /through the bastion: .*Host key verification failed/);
    });

    it("Refuses a bastion whose words would break the hop's shell command line, before connecting", async () => {
      await assert.rejects(
        verify({
          host: server.host,
          privateKey: key.privateKey,
          proxyJump: { ...jump(), configFile: "/tmp/a'b" },
        }),
        (error: unknown) =>
          error instanceof UsageError && /"--jump-config" option must be/.test(error.message),
      );
      await assert.rejects(
        verify({ host: server.host, privateKey: key.privateKey, proxyJump: { host: "bastion;reboot" } }),
        (error: unknown) =>
          error instanceof UsageError && /"--proxy-jump" option must be/.test(error.message),
      );
    });
  });
});
