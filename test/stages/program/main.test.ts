// The test boot's process as the component's Command runs it, against a stand-in `openstack` CLI (unit tier):
// interruptions of every kind still delete everything, leftovers are swept, secrets stay out of argv.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { ResultPromise } from "execa";
import { parseTestBootRequest } from "../../../stages/program/request.ts";
import { discardUploads } from "../../../stages/testboot/verdict.ts";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));
const BIN = path.join(ROOT, "bin/nixos-image-testboot.js");
const FAKE = path.join(ROOT, "test/fixtures/fake-openstack");
const TAG = "0123456789ab";
const NAME = `nixos-image-verify-${TAG}`;

/** The family every image of the stand-in carries, and the project its credentials act in (fake-openstack). */
const FAMILY = "nci-00000000-0000-4000-8000-000000000001";
const SHA512 = createHash("sha512").update("the image").digest("hex");

const request = {
  owner: "nixos-cloud-image/unit/nixos",
  tag: TAG,
  family: FAMILY,
  imageId: "image-1",
  uploads: [{ imageId: "image-1", openstack: { cloud: "local", password: "pw-never-in-argv" } }],
  flavorName: "m1.verify",
  networkName: "provider",
  sshSourceCidr: "10.99.0.0/24",
  timeout: 30,
  configDrive: false,
  requireHostKeyPin: true,
  expectFiles: [],
  openstack: { cloud: "local", password: "pw-never-in-argv" },
};

interface Cloud {
  servers: { id: string; name: string }[];
  ports: unknown[];
  groups: unknown[];
  keypairs: string[];
  fips: unknown[];
  images: Record<string, string>;
  removed?: string[];
  deleted?: string[];
  unset?: string[];
  glance?: Record<string, { owner?: string; hidden?: boolean; properties?: Record<string, string> }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("nixos-image-testboot (stand-in openstack CLI)", function () {
  this.timeout(60_000);
  let dir: string;
  const cloud = (): Cloud => JSON.parse(readFileSync(path.join(dir, "cloud.json"), "utf8"));
  const calls = () =>
    readFileSync(path.join(dir, "calls.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { argv: string[]; password: string | null });
  const empty = (c: Cloud) =>
    c.servers.length + c.ports.length + c.groups.length + c.keypairs.length + c.fips.length === 0;
  const start = (mode: string, input: object, env: Record<string, string> = {}): ResultPromise =>
    execa(process.execPath, [BIN, mode], {
      input: JSON.stringify(input),
      reject: false,
      env: { PATH: `${FAKE}:${process.env.PATH}`, FAKE_OPENSTACK_DIR: dir, ...env },
    });
  /** Waits until the stand-in has been called with these words. */
  const calledWith = async (words: string) => {
    for (let i = 0; i < 300; i++) {
      if (existsSync(path.join(dir, "calls.log")) && calls().some((c) => c.argv.join(" ").startsWith(words)))
        return;
      await sleep(50);
    }
    throw new Error(`openstack ${words} was never called`);
  };
  const becomesEmpty = async () => {
    for (let i = 0; i < 300; i++) {
      if (empty(cloud())) return;
      await sleep(50);
    }
    assert.fail(`left behind: ${JSON.stringify(cloud())}`);
  };

  /** Seeds the stand-in's Glance: only these images exist. */
  const writeGlance = (glance: Cloud["glance"]) =>
    writeFileSync(
      path.join(dir, "cloud.json"),
      JSON.stringify({
        servers: [],
        ports: [],
        groups: [],
        keypairs: [],
        fips: [],
        images: {},
        glance,
        next: 1,
      }),
    );

  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "nci-testboot-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("deletes the server, port, security group and key pair when the server cannot be created, fails with the cloud's reason, and keeps the password out of argv", async () => {
    // A cloud without Neutron's L3 service answers 404 for floating IPs: the sweep takes that as none.
    const run = await start("verify", request, { FAKE_SERVER_CREATE: "error", FAKE_NO_L3: "1" });
    assert.equal(run.exitCode, 1);
    assert.match(String(run.stderr), /openstack server create failed: No valid host was found\./);
    assert.ok(empty(cloud()), JSON.stringify(cloud()));
    const deletes = calls()
      .map((c) => c.argv.join(" "))
      .filter((c) => / delete /.test(c))
      .map((c) => c.replace(/ delete .*$/, ""));
    // Dependents first: the server before its port, the port before its security group; the key pair any time.
    assert.deepEqual(
      deletes.filter((d) => d !== "keypair"),
      ["server", "port", "security group"],
    );
    assert.equal(deletes.filter((d) => d === "keypair").length, 1);
    // The provider's password travels in the environment only, never in argv or the output.
    for (const call of calls()) {
      assert.equal(call.password, "pw-never-in-argv");
      assert.ok(!call.argv.join(" ").includes("pw-never-in-argv"));
    }
    assert.ok(!`${run.stdout}${run.stderr}`.includes("pw-never-in-argv"));
  });

  for (const [how, stop] of [
    ["SIGKILL of the command (as the command provider does on cancel)", "SIGKILL"],
    ["SIGINT", "SIGINT"],
    ["SIGTERM", "SIGTERM"],
  ] as const) {
    it(`after ${how} during the server's boot, deletes everything it made`, async () => {
      const run = start("verify", request, { FAKE_SERVER_CREATE: "hang" });
      await calledWith("server create");
      run.kill(stop);
      const result = await run;
      assert.notEqual(result.exitCode, 0);
      // The runner lives in a session of its own: after a SIGKILL of its launcher it still cleans up.
      await becomesEmpty();
    });
  }

  // A finished boot (cloud-init's last line) that printed no host keys.
  const NO_KEYS =
    "Cloud-init v. 22.4.2 running 'modules:final'\nCloud-init v. 22.4.2 finished at Sat, 05 Dec 2026\n";

  it("fails the check naming verify.requireHostKeyPin when the console shows no host key, without running SSH, and deletes everything", async () => {
    const run = await start("verify", request, { FAKE_CONSOLE: NO_KEYS });
    assert.equal(run.exitCode, 1);
    assert.match(
      String(run.stderr),
      /host key not pinned: the guest finished booting without printing host key fingerprints; verify\.requireHostKeyPin is true/,
    );
    assert.match(String(run.stderr), /Console log of the server \(last 2 lines\)/);
    assert.doesNotMatch(String(run.stderr), /ssh-reachable|unreachable/);
    assert.ok(empty(cloud()), JSON.stringify(cloud()));
    // The cloud decides about the config drive unless verify.configDrive asks for one.
    const create = calls().find((c) => c.argv[0] === "server" && c.argv[1] === "create")!;
    assert.ok(!create.argv.includes("--config-drive"), create.argv.join(" "));
  });

  it("reports a console that cannot be read, stops reading it after three tries, and fails naming the pin", async () => {
    const started = Date.now();
    const run = await start("verify", request, { FAKE_CONSOLE_ERROR: "Forbidden (HTTP 403)" });
    assert.equal(run.exitCode, 1);
    const stderr = String(run.stderr);
    assert.equal(
      stderr.match(/console: reading the server's console log failed: .*Forbidden \(HTTP 403\)/g)?.length,
      3,
    );
    assert.match(
      stderr,
      /host key not pinned: the server's console log could not be read \(3 tries\): .*Forbidden/,
    );
    assert.ok(Date.now() - started < request.timeout * 1000, "ends before verify.timeout");
    assert.ok(empty(cloud()), JSON.stringify(cloud()));
  });

  it("asks for a config drive with verify.configDrive, and without a pin required trusts the first key", async () => {
    const run = await start(
      "verify",
      { ...request, configDrive: true, requireHostKeyPin: false, timeout: 10 },
      // The verifier connects: to loopback only, where nothing answers on port 22 or an sshd refuses the key.
      { FAKE_CONSOLE: NO_KEYS, FAKE_PORT_ADDRESS: "127.0.0.1" },
    );
    const create = calls().find((c) => c.argv[0] === "server" && c.argv[1] === "create")!;
    assert.deepEqual(create.argv.slice(create.argv.indexOf("--config-drive"), -1).slice(0, 2), [
      "--config-drive",
      "True",
    ]);
    // The verifier ran instead of the pin failing.
    assert.match(
      String(run.stderr),
      /not pinning: SSH trusts the first key \(verify\.requireHostKeyPin is false\)/,
    );
    assert.doesNotMatch(String(run.stderr), /host key not pinned/);
    assert.ok(empty(cloud()), JSON.stringify(cloud()));
  });

  it("removes what an interrupted run left (found by name and tag) and says so", async () => {
    writeFileSync(
      path.join(dir, "cloud.json"),
      JSON.stringify({
        servers: [
          { id: "old-server", name: NAME },
          { id: "other", name: "nixos-image-verify-ffffffffffff" },
        ],
        ports: [{ id: "old-port", name: NAME }],
        groups: [{ id: "old-sg", name: NAME }],
        keypairs: [NAME, "someone-elses"],
        fips: [],
        images: {},
        next: 1,
      }),
    );
    const run = await start("verify", request, { FAKE_PORT_CREATE: "error" });
    assert.match(
      String(run.stderr),
      /removed what an interrupted test boot of nixos-cloud-image\/unit\/nixos had left: 1 server\(s\) \(old-server\), 1 port\(s\) \(old-port\), 1 security group\(s\) \(old-sg\), 1 key pair\(s\) \(nixos-image-verify-0123456789ab\)/,
    );
    assert.match(String(run.stderr), /openstack port create failed: Network provider could not be found\./);
    // Another stack's test boot and unrelated key pairs are not touched.
    assert.deepEqual(cloud().servers, [{ id: "other", name: "nixos-image-verify-ffffffffffff" }]);
    assert.deepEqual(cloud().keypairs, ["someone-elses"]);
  });

  const promoteRequest = {
    imageId: "image-1",
    family: FAMILY,
    sha512: SHA512,
    visibility: "public",
    properties: { nixos_cloud_image_family: FAMILY, team: "infra" },
    minRamMb: 512,
    openstack: {},
  };

  it("promote, with no built file on this machine, unhides the image, sets visibility and metadata once Glance's SHA-512 is the recorded one, and prints what it set", async () => {
    const run = await start("promote", promoteRequest, { FAKE_IMAGE_SHA512: SHA512 });
    assert.equal(run.exitCode, 0, String(run.stderr));
    const set = cloud().images["image-1"];
    for (const word of [
      "--min-ram 512",
      "--property team=infra",
      "--public",
      "--unhidden",
      "nixos_cloud_image_promoted=",
    ])
      assert.ok(set.includes(word), `${word} in ${set}`);
    assert.deepEqual(JSON.parse(String(run.stdout)), { properties: promoteRequest.properties });
  });

  it("promote unsets the properties its previous run set that are no longer asked for", async () => {
    const previous = JSON.stringify({ properties: { ...promoteRequest.properties, old_key: "x" } });
    writeGlance({ "image-1": { hidden: true, properties: { old_key: "x" } } });
    const run = await start("promote", promoteRequest, {
      FAKE_IMAGE_SHA512: SHA512,
      PULUMI_COMMAND_STDOUT: previous,
    });
    assert.equal(run.exitCode, 0, String(run.stderr));
    assert.deepEqual(cloud().unset, ["--property old_key image-1"]);
  });

  it("promote removes the members of an image that stops being shared, so none comes back with the next share", async () => {
    const req = { ...promoteRequest, visibility: "private" };
    const env = {
      FAKE_IMAGE_SHA512: SHA512,
      FAKE_IMAGE_VISIBILITY: "shared",
      FAKE_IMAGE_MEMBERS: "proj-a,proj-b",
    };
    const run = await start("promote", req, env);
    assert.equal(run.exitCode, 0, String(run.stderr));
    assert.deepEqual(cloud().removed, ["image-1 proj-a", "image-1 proj-b"]);
    assert.match(String(run.stderr), /removed member proj-a from image image-1: it is no longer shared/);
  });

  it("promote refuses an upload whose SHA-512 is not the recorded one, and changes nothing", async () => {
    const req = { ...promoteRequest, imageId: "image-2" };
    const run = await start("promote", req, { FAKE_IMAGE_SHA512: "0badc0de" });
    assert.equal(run.exitCode, 1);
    assert.match(
      String(run.stderr),
      /Glance's hash of image image-2 \(sha512: 0badc0de\) is not the SHA-512 recorded when the image was built \([0-9a-f]{128}\): the upload is not the file built\. The image stays private and hidden/,
    );
    assert.ok(!existsSync(path.join(dir, "cloud.json")), "nothing was set in the cloud");
  });

  it("verify does not boot an image whose bytes passed before, and repeats that verdict", async () => {
    writeGlance({ "image-1": { properties: { nixos_cloud_image_verified: "2026-12-01: 5 checks passed" } } });
    const run = await start("verify", request);
    assert.equal(run.exitCode, 0, String(run.stderr));
    assert.equal(JSON.parse(String(run.stdout)).alreadyVerified, "2026-12-01: 5 checks passed");
    assert.ok(!calls().some((c) => c.argv[0] === "server"), "no server listed, made or deleted");
    assert.match(String(run.stderr), /image image-1: these bytes passed before .*not booted again/);
  });

  it("verify refuses an image that is not this stack's (another project's), booting nothing, and names pulumi up --refresh", async () => {
    writeGlance({ "image-1": { owner: "proj-other" } });
    const run = await start("verify", request);
    assert.equal(run.exitCode, 1);
    assert.match(
      String(run.stderr),
      /image image-1 is gone .*or is not this stack's any more.*pulumi up --refresh/,
    );
    assert.ok(!calls().some((c) => c.argv[0] === "server"));
  });

  it("a failed check deletes the build's uploads in every region: only the family's own, never a promoted one", async () => {
    writeGlance({
      "image-1": {},
      "image-2": {},
      "image-3": { properties: { nixos_cloud_image_promoted: "2026-11-01T00:00:00Z" } },
      "image-4": { owner: "proj-other" },
    });
    const settings = (region: string) => ({ cloud: "local", region });
    const req = {
      ...request,
      uploads: ["image-1", "image-2", "image-3", "image-4", "image-gone"].map((imageId, i) => ({
        imageId,
        openstack: settings(`Region${i}`),
      })),
    };
    const env = { ...process.env };
    process.env.PATH = `${FAKE}:${process.env.PATH}`;
    process.env.FAKE_OPENSTACK_DIR = dir;
    const lines: string[] = [];
    try {
      await discardUploads(parseTestBootRequest(JSON.stringify(req)), (l) => lines.push(l));
    } finally {
      process.env.PATH = env.PATH;
      if (env.FAKE_OPENSTACK_DIR === undefined) delete process.env.FAKE_OPENSTACK_DIR;
    }
    assert.deepEqual(cloud().deleted, ["image-1", "image-2"]);
    assert.deepEqual(Object.keys(cloud().glance!).sort(), ["image-3", "image-4"]);
    assert.ok(lines.some((l) => /deleted image image-2 in Region1: its build failed verification/.test(l)));
  });

  it("new-family prints a new random family ID; keep-family the one it is given back, or fails without one", async () => {
    const first = await start("new-family", { openstack: {} });
    const second = await start("new-family", { openstack: {} });
    assert.match(String(first.stdout), /^nci-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual(String(first.stdout), String(second.stdout));
    const update = await start(
      "keep-family",
      { openstack: {} },
      { PULUMI_COMMAND_STDOUT: String(first.stdout) },
    );
    assert.equal(String(update.stdout), String(first.stdout));
    // Without an ID in the state, a new one would orphan every generation: it fails instead.
    const lost = await start("keep-family", { openstack: {} });
    assert.equal(lost.exitCode, 1);
    assert.equal(String(lost.stdout), "");
    assert.match(String(lost.stderr), /the family Command's state holds no family ID/);
  });

  it("remove-family ends the family its previous stdout names, and only the images of that family in this project", async () => {
    const family = (id: string, extra = {}) => ({
      hidden: false,
      properties: { nixos_cloud_image_family: id },
      ...extra,
    });
    writeGlance({
      "image-1": family(FAMILY),
      "image-2": family(FAMILY, { hidden: true }),
      "image-3": family("nci-00000000-0000-4000-8000-0000000000ff"),
      "image-4": family(FAMILY, { owner: "proj-other" }),
    });
    const request = { uploadTimeoutMinutes: 30, openstack: {} };
    const run = await start("remove-family", request, { PULUMI_COMMAND_STDOUT: FAMILY });
    assert.equal(run.exitCode, 0, String(run.stderr));
    assert.deepEqual(cloud().deleted?.sort(), ["image-1", "image-2"]);
    assert.deepEqual(JSON.parse(String(run.stdout)).deleted.sort(), ["image-1", "image-2"]);
    // An earlier version's rotation Command ends here with its report, not a family ID: nothing is deleted.
    for (const previous of [undefined, '{"kept":[]}', "nixos-cloud-image/prod/nixos"]) {
      const never = await start(
        "remove-family",
        request,
        previous ? { PULUMI_COMMAND_STDOUT: previous } : {},
      );
      assert.equal(never.exitCode, 0);
      assert.match(String(never.stderr), /no family ID in this Command's state: nothing is deleted/);
    }
    assert.deepEqual(cloud().deleted?.sort(), ["image-1", "image-2"]);
  });

  it("rejects a broken request before calling the cloud", async () => {
    const run = await start("verify", { ...request, tag: "not hex" });
    assert.equal(run.exitCode, 1);
    assert.match(String(run.stderr), /"tag" must be a hex string; received "not hex"/);
    assert.ok(!existsSync(path.join(dir, "calls.log")));
  });
});
