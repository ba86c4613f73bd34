// The engine tier's test boot: real Pulumi, the real component, real Nova + Neutron + Glance of the shared
// compute cloud, and bootable guests (good and bad). Tests run in order on one stack; after each, the cloud
// must hold no server, key pair, security group, port or floating IP of the check.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation/index.js";
import { computeCloud } from "./support/computeCloud.ts";
import type { ComputeCloud } from "./support/computeCloud.ts";
import { startBastion } from "./support/bastion.ts";
import { guestSource } from "./support/guests.ts";
import type { GuestVariant } from "./support/guests.ts";
import { pulumiInNetns } from "./support/wrappedPulumi.ts";
import { changed, makeProject, makeStack, plannedOps } from "./support/project.ts";
import type { Project } from "./support/project.ts";
import type { VerificationReport } from "../../stages/testboot/declare.ts";

const NS = "nixos-cloud-image";
const VERIFY = { flavorName: "m1.verify", networkName: "provider", sshSourceCidr: "10.99.0.0/24" };
/**
 * As most private clouds: the server on the tenant network behind the router, reached through a floating IP
 * from the external network (the verifier's address, 10.99.0.1, stays the source through the router's NAT).
 * The cloud forces no config drive, so the key arrives through the router's metadata proxy alone.
 */
const TENANT = { networkName: "tenant", floatingIpPool: "provider" };
/** Long enough for a TCG guest to boot (~1-2 min here), short enough that the no-sshd case ends soon. */
const TIMEOUT = 420;
const NO_SSHD_TIMEOUT = 150;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("verification: an ephemeral test boot on a local Nova + Neutron", function () {
  this.timeout(1_200_000);
  let cloud: ComputeCloud;
  let project: Project;
  let stack: Stack;
  let password: string;
  let verified: { imageId: string; serverId: string };

  const setVerify = (extra: object = {}) =>
    stack.setConfig(`${NS}:verify`, { value: JSON.stringify({ ...VERIFY, timeout: TIMEOUT, ...extra }) });
  const useGuest = async (variant: GuestVariant) =>
    stack.setConfig(`${NS}:source`, { value: await guestSource(variant) });
  const up = async (signal?: AbortSignal) => {
    const events: EngineEvent[] = [];
    const result = await stack.up({
      onEvent: (e) => events.push(e),
      onOutput: (o) => process.stderr.write(o),
      ...(signal === undefined ? {} : { signal }),
    });
    return { result, events };
  };
  const outputs = async () => {
    const all = await stack.outputs();
    return {
      imageId: all.imageId?.value as string,
      verification: all.verification?.value as VerificationReport | null,
    };
  };
  const image = async (id: string) => cloud.openstack(["image", "show", id, "-f", "json"]);
  /** Nothing of any test boot is left: no server, key pair, security group, port or floating IP. */
  const nothingLeft = async (what: string) => {
    assert.deepEqual(
      await cloud.count(),
      { servers: 0, keyPairs: 0, securityGroups: 0, serverPorts: 0, floatingIps: 0 },
      `after ${what}`,
    );
    // The test boot's own port is made before its server, so it is not a server port until bound.
    const ports = (await cloud.openstack(["port", "list", "-f", "json"])) as { Name: string }[];
    assert.deepEqual(
      ports.filter((p) => p.Name.startsWith("nixos-image-verify-")),
      [],
      `ports after ${what}`,
    );
  };

  before(async function () {
    this.timeout(1_800_000);
    cloud = await computeCloud();
    await nothingLeft("the start");
    project = makeProject();
    stack = await makeStack(
      project,
      "verify",
      { OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml },
      await pulumiInNetns(cloud.netns),
    );
    password = readFileSync(cloud.cloudsYaml, "utf8").match(/password: *"?([^"\n]+)"?/)![1];
    await stack.setAllConfig({
      "openstack:cloud": { value: "local" },
      "openstack:password": { value: password, secret: true },
      [`${NS}:visibility`]: { value: "public" },
      [`${NS}:diskSize`]: { value: "2048" },
      // Keep 1: a failed check must never push the last good generation out.
      [`${NS}:keepGenerations`]: { value: "1" },
    });
    await useGuest("good");
  });

  after(async function () {
    this.timeout(600_000);
    if (stack) await stack.destroy().catch(() => undefined);
    project?.remove();
  });

  it("a flavor that does not exist fails preview and up naming verify.flavorName, before anything is made", async () => {
    await setVerify({ flavorName: "no-such-flavor" });
    const message =
      /The "verify\.flavorName" setting must be the name of a flavor that exists in the cloud; received "no-such-flavor"/;
    // Once, as it is: not wrapped in the properties it would have reached, and without a stack trace.
    const clear = (error: Error) => {
      assert.match(error.message, message);
      assert.doesNotMatch(error.message, /error serializing property|unhandled exception|at mustExist/);
      return true;
    };
    await assert.rejects(stack.preview(), clear);
    await assert.rejects(up(), clear);
    const state = await stack.exportStack();
    const resources = (state.deployment.resources ?? []).map((r: { type: string }) => r.type);
    assert.deepEqual(
      resources.filter((t: string) => !t.startsWith("pulumi:")),
      [],
      "no resource was registered",
    );
    await nothingLeft("a missing flavor");
  });

  it("a good guest on the tenant network, through a floating IP, key from the metadata service: pulumi up passes, reports every check with timings, promotes the image, and leaves nothing (no floating IP either)", async () => {
    await setVerify(TENANT);
    const started = Date.now();
    const { result } = await up();
    assert.equal(result.summary.result, "succeeded");
    const { imageId, verification } = await outputs();
    assert.match(verification?.host ?? "", /^10\.99\.0\.\d+$/, "verified through the floating IP");
    assert.ok(verification, "the verification output is set");
    assert.equal(verification.ok, true, JSON.stringify(verification));
    assert.equal(verification.imageId, imageId);
    assert.deepEqual(
      verification.checks.filter((c) => !c.ok),
      [],
    );
    for (const id of ["ssh-reachable", "key-login", "sudo", "root-login-refused", "no-password-auth"]) {
      assert.ok(
        verification.checks.some((c) => c.id === id),
        `check ${id} ran`,
      );
    }
    // The guest prints its host keys to the console; the verifier pinned one of them.
    assert.match(verification.hostKeyPinned ?? "", /^SHA256:[A-Za-z0-9+/]{43}$/);
    assert.ok(verification.checks.some((c) => c.id === "host-key" && c.ok));
    assert.ok(verification.timings.total > verification.timings.checked);
    assert.ok(verification.timings.total * 1000 < Date.now() - started);
    assert.equal((await image(imageId)).visibility, "public", "promoted after the pass");
    await nothingLeft("a passed check");
    verified = { imageId, serverId: verification.serverId };
    // The private key never reaches the state, and the password is there only encrypted (the files on disk:
    // the Automation API's exportStack decrypts secrets).
    const stateDir = new URL(project.backend).pathname;
    for (const file of readdirSync(stateDir, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const text = readFileSync(path.join(file.parentPath, file.name), "utf8");
      assert.doesNotMatch(text, /PRIVATE KEY/, file.name);
      assert.ok(!text.includes(password), `${file.name} holds the provider password in plain text`);
    }
  });

  it("an unchanged image does not boot again: preview plans nothing and up runs no check", async () => {
    assert.deepEqual(changed(await plannedOps(stack)), {});
    const { result } = await up();
    assert.deepEqual(Object.keys(result.summary.resourceChanges ?? {}), ["same"]);
    assert.deepEqual((await outputs()).verification?.serverId, verified.serverId);
  });

  it("a changed setting of the check alone does not boot again either", async () => {
    await setVerify({ ...TENANT, timeout: TIMEOUT + 1 });
    // An update of the Command alone (which only repeats the report), never a replacement that boots.
    assert.deepEqual(changed(await plannedOps(stack)), { "nixos-verify": "update" });
    await up();
    assert.deepEqual((await outputs()).verification?.serverId, verified.serverId);
    await setVerify();
    await up();
  });

  const failing: [string, GuestVariant, RegExp][] = [
    ["root login allowed", "root-allowed", /root login allowed/],
    ["sudo asking for a password", "sudo-password", /sudo requires a password/],
    // OVMF finds no ESP on the BIOS disk: the check fails on the firmware's line, not after the timeout.
    ["a BIOS-only disk marked UEFI", "bios-as-uefi", /the firmware found nothing to boot/],
  ];
  for (const [what, variant, reason] of failing) {
    it(`a guest with ${what} (keep 1): preview shows the check will run, up fails naming it with console lines, deletes the failed upload, the passing generation stays newest, nothing is left`, async () => {
      await useGuest(variant);
      const ops = changed(await plannedOps(stack));
      assert.equal(ops["nixos-verify"], "replace", "pulumi preview shows the check will run");
      await assert.rejects(up(), (error: Error) => {
        assert.match(error.message, reason);
        assert.match(error.message, /failed verification on server/);
        assert.match(error.message, /Console log of the server \(last \d+ lines\):\n +\| /);
        assert.match(error.message, /The image was never promoted and is deleted/);
        return true;
      });
      const { imageId } = await outputs();
      const state = await stack.exportStack();
      const images = (state.deployment.resources ?? []).filter(
        (r: { type: string }) => r.type === "openstack:images/image:Image",
      );
      const fresh = images.find((r: { id: string }) => r.id !== verified.imageId);
      assert.ok(fresh, "the new image is in the state");
      // The run that made the failed upload deleted it: it never became a generation.
      await assert.rejects(image(fresh.id), /No Image found|Could not find|404/);
      // The previous generation is untouched: still there, still public and visible, still the stack's output.
      assert.equal(imageId, verified.imageId);
      const previous = await image(verified.imageId);
      assert.deepEqual(
        [previous.visibility, previous.properties?.os_hidden ?? previous.os_hidden],
        ["public", false],
      );
      await nothingLeft(`a failed check (${what})`);
    });
  }

  it("a guest whose sshd never starts fails as unreachable within the timeout, and nothing is left", async () => {
    await setVerify({ timeout: NO_SSHD_TIMEOUT });
    await useGuest("no-sshd");
    const started = Date.now();
    await assert.rejects(up(), /SSH unreachable/);
    const elapsed = (Date.now() - started) / 1000;
    // The boot and the checks get the timeout; the build and upload of the 2 GiB guest, the sweep, the
    // creates and the deletes take the rest (about 2 minutes here).
    assert.ok(elapsed < NO_SSHD_TIMEOUT + 240, `took ${elapsed} s`);
    await nothingLeft("an unreachable guest");
    await setVerify();
  });

  it("a good guest on the tenant network with no floating IP, through a bastion on the router (sshProxyJump): passes, and leaves nothing", async () => {
    // The deployer has no route to the tenant network: only the bastion, in the router's namespace, reaches it.
    const bastion = await startBastion(cloud, "10.100.0.1");
    try {
      await useGuest("good");
      await setVerify({
        networkName: "tenant",
        sshSourceCidr: `${bastion.tenantSide}/32`,
        sshProxyJump: bastion.jump,
        sshJumpConfig: bastion.configFile,
      });
      const { result } = await up();
      assert.equal(result.summary.result, "succeeded");
      assert.match(
        result.stdout,
        new RegExp(`network tenant, through ${bastion.jump.replace(/\./g, "\\.")}\\)`),
      );
      const { verification } = await outputs();
      assert.equal(verification?.ok, true, JSON.stringify(verification));
      assert.match(verification?.host ?? "", /^10\.100\.0\.\d+$/, "verified at the fixed IP");
      assert.match(
        verification?.checks[0]?.name ?? "",
        new RegExp(`through ${bastion.jump.replace(/\./g, "\\.")}$`),
      );
      assert.match(verification?.hostKeyPinned ?? "", /^SHA256:/);
      assert.match(bastion.sshd.log(), /Accepted publickey for nixos/, "the hop logged in on the bastion");
    } finally {
      await bastion.stop();
    }
    await nothingLeft("a check through a bastion");
    await setVerify();
  });

  it("SIGINT to pulumi up during the check leaves nothing, and the next pulumi up converges (a UEFI guest, with a config drive asked for)", async () => {
    await useGuest("uefi");
    // The flat network, and the key on a config drive (the cloud forces none; the metadata service also has it).
    await setVerify({ configDrive: true });
    const abort = new AbortController();
    let settled = false;
    const running = up(abort.signal).finally(() => (settled = true));
    running.catch(() => undefined);
    for (let i = 0; i < 600 && !settled && (await cloud.count()).servers === 0; i++) await sleep(1000);
    assert.equal((await cloud.count()).servers, 1, "the test server was seen");
    abort.abort();
    await assert.rejects(running);
    // The test boot deletes what it made after the interruption, in its own time.
    for (let i = 0; i < 180; i++) {
      const left = await cloud.count();
      if (Object.values(left).every((n) => n === 0)) break;
      await sleep(1000);
    }
    await nothingLeft("an interrupted pulumi up");
    const { result } = await up();
    assert.equal(result.summary.result, "succeeded");
    assert.match(result.stdout, /network provider, config drive\)/);
    const { imageId, verification } = await outputs();
    assert.equal(verification?.ok, true);
    // A changed image was verified anew, on a new server, and promoted.
    assert.notEqual(imageId, verified.imageId);
    assert.equal(verification?.imageId, imageId);
    assert.notEqual(verification?.serverId, verified.serverId);
    const converged = await image(imageId);
    assert.equal(converged.visibility, "public");
    // Booted by OVMF: the image asks for UEFI (and q35), and its disk has no BIOS boot code at all.
    assert.deepEqual(
      ["hw_firmware_type", "hw_machine_type"].map((k) => converged.properties?.[k] ?? converged[k]),
      ["uefi", "q35"],
    );
    await nothingLeft("the converging pulumi up");
  });

  it("rotation never deletes a generation a server boots from: it names it, and deletes it once the server is gone", async () => {
    await stack.removeConfig(`${NS}:verify`);
    const { imageId: used } = await outputs();
    const server = await cloud.openstack([
      ...["server", "create", "--image", used, "--flavor", VERIFY.flavorName],
      ...["--network", VERIFY.networkName, "nci-rotation-user", "-f", "json"],
    ]);
    try {
      // Another guest's bytes (unchecked now) are a new generation, which pushes `used` beyond keep 1.
      await useGuest("root-allowed");
      const { result } = await up();
      assert.match(
        result.stdout,
        new RegExp(`kept ${used} \\(.*\\): beyond the newest 1, but server ${server.id} uses it`),
      );
      assert.equal((await image(used)).status, "active", "the generation in use is still there");
    } finally {
      await cloud.openstack(["server", "delete", "--wait", server.id]);
    }
    await useGuest("sudo-password");
    const { result } = await up();
    assert.match(result.stdout, new RegExp(`deleted generation ${used} `));
    await assert.rejects(image(used), /No Image found|Could not find|404/);
    await nothingLeft("the rotation");
  });

  it("credentials that may not see other projects' servers keep a generation that was shared: hidden, with the reason; destroy marks it", async () => {
    const admin = (await cloud.openstack(["token", "issue", "-f", "json"])).project_id as string;
    const demo = await makeStack(
      project,
      "verify-demo",
      { OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml },
      await pulumiInNetns(cloud.netns),
    );
    await demo.setAllConfig({
      "openstack:cloud": { value: "local-demo" },
      [`${NS}:source`]: { value: await guestSource("good") },
      [`${NS}:diskSize`]: { value: "2048" },
      [`${NS}:keepGenerations`]: { value: "1" },
    });
    // A list item, as `pulumi config set --path` sets it (Pulumi.yaml types members as a list).
    await demo.setConfig(`${NS}:members[0]`, { value: admin }, true);
    const demoUp = async () => {
      const result = await demo.up({ onOutput: (o) => process.stderr.write(o) });
      assert.equal(result.summary.result, "succeeded");
      return result;
    };
    await demoUp();
    const shared = (await demo.outputs()).imageId.value as string;
    // A server of the admin's project boots the shared generation; the demo user cannot see it.
    const server = await cloud.openstack([
      ...["server", "create", "--image", shared, "--flavor", VERIFY.flavorName],
      ...["--network", VERIFY.networkName, "nci-other-project", "-f", "json"],
    ]);
    let newest: string | undefined;
    try {
      await demo.setConfig(`${NS}:source`, { value: await guestSource("root-allowed") });
      const { stdout } = await demoUp();
      newest = (await demo.outputs()).imageId.value as string;
      assert.match(
        stdout,
        new RegExp(
          `kept ${shared} \\(.*\\): beyond the newest 1, but it was shared, .*may not list other projects' servers`,
        ),
      );
      const kept = await image(shared);
      assert.equal(kept.status, "active");
      assert.equal(kept.properties?.os_hidden ?? kept.os_hidden, true, "hidden, not deleted");
      const destroyed = await demo.destroy({ onOutput: (o) => process.stderr.write(o) });
      assert.equal(destroyed.summary.result, "succeeded");
      // Both were shared: neither may go while other projects' servers cannot be seen.
      for (const id of [shared, newest])
        assert.match(destroyed.stdout, new RegExp(`left ${id} .* marked nixos_cloud_image_orphaned=`));
      const orphan = await image(shared);
      assert.match(
        String(orphan.properties?.nixos_cloud_image_orphaned ?? orphan.nixos_cloud_image_orphaned),
        /^\d{4}-/,
      );
    } finally {
      await cloud.openstack(["server", "delete", "--wait", server.id]);
      for (const id of [shared, newest])
        if (id) await cloud.openstack(["image", "delete", id]).catch(() => undefined);
      await demo.workspace.removeStack("verify-demo", { force: true }).catch(() => undefined);
    }
    await nothingLeft("the other project's server");
  });

  it("pulumi destroy keeps, marks and lists a generation a server boots from, leaves nothing of the check, and no secret in plain text", async () => {
    const { imageId: used } = await outputs();
    const server = await cloud.openstack([
      ...["server", "create", "--image", used, "--flavor", VERIFY.flavorName],
      ...["--network", VERIFY.networkName, "nci-destroy-user", "-f", "json"],
    ]);
    try {
      const { summary, stdout } = await stack.destroy({ onOutput: (o) => process.stderr.write(o) });
      assert.equal(summary.result, "succeeded");
      assert.match(
        stdout,
        new RegExp(`left ${used} .* marked nixos_cloud_image_orphaned=\\S+: server ${server.id} uses it`),
      );
      const kept = await image(used);
      assert.equal(kept.status, "active", "the server's image is still there");
      assert.match(
        String(kept.properties?.nixos_cloud_image_orphaned ?? kept.nixos_cloud_image_orphaned),
        /^\d{4}-\d\d-\d\d$/,
      );
    } finally {
      await cloud.openstack(["server", "delete", "--wait", server.id]);
      await cloud.openstack(["image", "delete", used]).catch(() => undefined);
    }
    await nothingLeft("destroy");
    const stateDir = new URL(project.backend).pathname;
    for (const file of readdirSync(stateDir, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const text = readFileSync(path.join(file.parentPath, file.name), "utf8");
      assert.ok(!text.includes(password), `${file.name} holds the provider password in plain text`);
    }
  });
});
