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

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BIN = path.join(ROOT, "bin/nixos-image-testboot.js");
const FAKE = path.join(ROOT, "test/fixtures/fake-openstack");
const TAG = "0123456789ab";
const NAME = `nixos-image-verify-${TAG}`;

const request = {
  owner: "nixos-cloud-image/unit/nixos",
  tag: TAG,
  imageId: "image-1",
  flavorName: "m1.verify",
  networkName: "provider",
  sshSourceCidr: "10.99.0.0/24",
  timeout: 30,
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
    // Dependents first: the server before its port, the port before its security group.
    assert.deepEqual(deletes, ["server", "port", "security group", "keypair"]);
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

  it("promote unhides the image and sets its visibility once Glance's SHA-512 is the built file's", async () => {
    const file = path.join(dir, "nixos.img");
    writeFileSync(file, "the image");
    const sha512 = createHash("sha512").update("the image").digest("hex");
    const req = { imageId: "image-1", file, visibility: "public", openstack: {} };
    const run = await start("promote", req, { FAKE_IMAGE_SHA512: sha512 });
    assert.equal(run.exitCode, 0, String(run.stderr));
    assert.deepEqual(cloud().images, { "image-1": "--public --unhidden" });
  });

  it("promote removes the members of an image that stops being shared, so none comes back with the next share", async () => {
    const file = path.join(dir, "nixos.img");
    writeFileSync(file, "the image");
    const sha512 = createHash("sha512").update("the image").digest("hex");
    const req = { imageId: "image-1", file, visibility: "private", openstack: {} };
    const env = {
      FAKE_IMAGE_SHA512: sha512,
      FAKE_IMAGE_VISIBILITY: "shared",
      FAKE_IMAGE_MEMBERS: "proj-a,proj-b",
    };
    const run = await start("promote", req, env);
    assert.equal(run.exitCode, 0, String(run.stderr));
    assert.deepEqual(cloud().removed, ["image-1 proj-a", "image-1 proj-b"]);
    assert.match(String(run.stderr), /removed member proj-a from image image-1: it is no longer shared/);
  });

  it("promote refuses an upload whose SHA-512 is not the built file's, and changes nothing", async () => {
    const file = path.join(dir, "nixos.img");
    writeFileSync(file, "the image");
    const req = { imageId: "image-2", file, visibility: "public", openstack: {} };
    const run = await start("promote", req, { FAKE_IMAGE_SHA512: "0badc0de" });
    assert.equal(run.exitCode, 1);
    assert.match(
      String(run.stderr),
      /Glance's hash of image image-2 \(sha512: 0badc0de\) is not the SHA-512 of \S+nixos.img \([0-9a-f]{128}\): the upload is not the file built\. The image stays private and hidden/,
    );
    assert.ok(!existsSync(path.join(dir, "cloud.json")), "nothing was set in the cloud");
  });

  it("rejects a broken request before calling the cloud", async () => {
    const run = await start("verify", { ...request, tag: "not hex" });
    assert.equal(run.exitCode, 1);
    assert.match(String(run.stderr), /"tag" must be a hex string; received "not hex"/);
    assert.ok(!existsSync(path.join(dir, "calls.log")));
  });
});
