// `scripts/try.sh --fixture` from a fresh clone: the one command of the README's first screen, run as a
// person would, with its own local compute cloud; then, each in a new shell with the distribution's PATH and
// nothing exported by an earlier step, the README's `npm test` and `--remove`, which must leave the checkout
// as it was and nothing of the trial running.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { stopComputeCloud } from "./support/computeCloud.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
/** Debian's PATH for root; `bash -l` sets it again from /etc/profile anyway. */
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Processes whose command line or working directory is inside dir (the trial's daemons, guests, shells). */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ").trim();
      let cwd = "";
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {
        // a kernel thread, or gone meanwhile
      }
      if (cmdline.includes(dir) || cwd.startsWith(dir)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // ended while we looked
    }
  }
  return found;
}

describe("scripts/try.sh --fixture, from a fresh clone", function () {
  let dir: string;
  let clone: string;
  let netns: string;
  /** The later steps need the first one's stack and cloud: without them they are skipped, not rerun in full. */
  let made = false;
  const run = (...args: string[]) =>
    execa(path.join(clone, "scripts/try.sh"), args, { cwd: clone, reject: false, all: true });
  /** A command as a person types it in a new root login shell: env -i, the distribution's PATH, in the clone. */
  const inNewShell = (command: string) =>
    execa(
      "env",
      ["-i", `PATH=${SYSTEM_PATH}`, `HOME=${homedir()}`, "bash", "-lc", `cd '${clone}' && ${command}`],
      {
        reject: false,
        all: true,
      },
    );
  const namespaces = async () => (await execa("ip", ["netns", "list"])).stdout;
  const gitStatus = async () => (await execa("git", ["status", "--porcelain"], { cwd: clone })).stdout;

  before(async function () {
    this.timeout(600_000);
    // One compute cloud at a time on a 2-core machine: the shared one of the other tests goes first.
    await stopComputeCloud();
    dir = mkdtempSync(path.join(tmpdir(), "nci-try-"));
    clone = path.join(dir, "nixos-cloud-image");
    await execa("git", ["clone", "--quiet", ROOT, clone]);
  });

  after(async function () {
    this.timeout(600_000);
    if (clone && existsSync(path.join(clone, ".nixos-cloud-image"))) await run("--remove");
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("without --fixture where nixpkgs' binary cache cannot be reached, says so in one sentence and offers the fixture", async () => {
    const started = Date.now();
    const result = await execa(path.join(clone, "scripts/try.sh"), [], {
      cwd: clone,
      reject: false,
      all: true,
      // Unreachable on purpose (a closed port on loopback): tests never reach the internet.
      env: { NCI_NIXPKGS_PROBE: "http://127.0.0.1:9/nix-cache-info" },
    });
    assert.equal(result.exitCode, 1);
    assert.match(result.stderr, /cannot be reached from this machine.*scripts\/try\.sh --fixture/);
    // In the first seconds, before anything slow: no packages, no npm ci, no local cloud.
    assert.ok(Date.now() - started < 20_000, `told after ${Date.now() - started} ms`);
    assert.ok(!existsSync(path.join(clone, "node_modules")), "npm ci did not run");
    assert.ok(!existsSync(path.join(clone, ".nixos-cloud-image/localcloud")), "no local cloud was started");
  });

  it("builds, publishes and verifies the test image, then prints the image, the verdict and the way back", async () => {
    const result = await run("--fixture");
    process.stderr.write(result.all.split("\n").slice(-60).join("\n") + "\n");
    assert.equal(result.exitCode, 0, "npm run try -- --fixture succeeds");
    assert.match(result.stdout, /image name: +nixos-\S+/);
    const id = /image ID: +([0-9a-f-]{36})/.exec(result.stdout)?.[1];
    assert.ok(id, "it prints the Glance image ID");
    assert.match(result.stdout, /verification: +passed \(\d+ checks\)/);
    assert.match(result.stdout, /scripts\/try\.sh --remove/);
    // The progress of pulumi up is visible as it runs: try.sh's steps on stderr, pulumi's on stdout.
    assert.match(result.stderr, /==> checked in \d+ s: root; .*GiB free/);
    assert.match(result.stderr, /==> pulumi up -s try/);
    assert.match(result.stdout, /nixos-image-testboot: booting nixos-image-verify-/);

    const work = path.join(clone, ".nixos-cloud-image");
    assert.equal(statSync(path.join(work, "passphrase")).mode & 0o777, 0o600);
    assert.ok(existsSync(path.join(work, "state/.pulumi/stacks")), "the try stack's state is in the project");
    assert.equal(await gitStatus(), "", "the trial changes no tracked file (its stack file is git-ignored)");
    netns = readFileSync(path.join(work, "localcloud/netns"), "utf8").trim();
    const { stdout } = await execa(path.join(clone, "scripts/localcloud/exec.sh"), [
      path.join(work, "localcloud"),
      "env",
      `OS_CLIENT_CONFIG_FILE=${path.join(work, "localcloud/clouds.yaml")}`,
      "openstack",
      "--os-cloud",
      "local",
      "image",
      "show",
      id,
      "-f",
      "json",
    ]);
    assert.equal(JSON.parse(stdout).status, "active");
    made = true;
  });

  it("run again, it changes nothing and says the same", async function () {
    if (!made) this.skip();
    const result = await run("--fixture");
    assert.equal(result.exitCode, 0);
    assert.match(result.all, /Resources:\s+\d+ unchanged/);
    assert.match(result.stdout, /verification: +passed/);
  });

  it("in a new shell (the distribution's PATH), the README's `npm test` passes: Node 22 and sshd are installed", async function () {
    if (!made) this.skip();
    const result = await inNewShell("command -v node && node --version && npm test");
    const summary = result.all.split("\n").filter((line) => /^ +\d+ (passing|failing|pending)/.test(line));
    process.stderr.write(`npm test in a new shell: ${summary.map((line) => line.trim()).join(", ")}\n`);
    assert.equal(result.exitCode, 0, result.all.split("\n").slice(-80).join("\n"));
    const [major, minor] = (/^v(\d+)\.(\d+)\./m.exec(result.all) ?? []).slice(1).map(Number);
    assert.ok(major > 22 || (major === 22 && minor >= 12), "the Node.js a new shell finds is 22.12 or later");
    assert.match(result.all, /^ +\d+ passing/m);
    assert.doesNotMatch(result.all, /^ +\d+ failing/m);
  });

  it("in a new shell, --remove destroys the stack and stops the local cloud: the checkout is as it was, nothing of the trial is left", async function () {
    if (!made) this.skip();
    const result = await inNewShell("scripts/try.sh --remove");
    assert.equal(result.exitCode, 0, result.all);
    assert.match(result.all, /pulumi destroy -s try/);
    assert.equal(
      await gitStatus(),
      "",
      "git status --porcelain is empty: no tracked file changed or deleted",
    );
    assert.ok(existsSync(path.join(clone, "Pulumi.dev.yaml")), "the dev stack's example is still there");
    for (const gone of [".nixos-cloud-image", "Pulumi.try.yaml"])
      assert.ok(!existsSync(path.join(clone, gone)), `${gone} is removed`);
    assert.ok(!(await namespaces()).includes(netns), `network namespace ${netns} is deleted`);
    assert.deepEqual(processesIn(clone), [], "no process of the trial is left");
  });

  it("--remove again, with nothing started, says so and succeeds", async function () {
    if (!made) this.skip();
    const result = await inNewShell("scripts/try.sh --remove");
    assert.equal(result.exitCode, 0, result.all);
    assert.match(result.all, /nothing to remove/);
  });
});
