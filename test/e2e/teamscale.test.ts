// Team scale on the real engine, plugins and Nix: the image builds on a remote builder (an sshd with a Nix
// store of its own, in a network namespace of the run's own), a team's CI pushes it to a signed binary cache
// served over HTTP, and a second deployer (its own HOME and Nix store, the first one's files out of reach)
// shares the stack through one state backend. Tests run in order and share the stack.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  createReadStream,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { Glance } from "./support/glance.ts";
import { LocalCloud } from "./support/localCloud.ts";
import { changed, fixtureStack, makeProject, makeStack, plannedOps } from "./support/project.ts";
import type { Project } from "./support/project.ts";
import { inStore, TeamHosts } from "./support/teamHosts.ts";
import { pulumiWithOwnStore } from "./support/wrappedPulumi.ts";

const NS = "nixos-cloud-image";
const STACK = "team";
/** Nix's line for a build it hands to a remote builder. */
const REMOTE_BUILD = /building '\/nix\/store\/[^']+\.drv' on 'ssh:\/\/root@10\.98\.0\.2'/;
const ANY_BUILD = /building '\/nix\/store\/[^']+\.drv'/;

/** One person's machine: a working copy of the project, a HOME and a Nix store of its own. */
interface Deployer {
  project: Project;
  nix: string;
  home: string;
  stack: Stack;
}

async function sha512(file: string): Promise<string> {
  const hash = createHash("sha512");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

describe("team scale: a remote builder, a binary cache, two deployers on one state backend", function () {
  const cloud = new LocalCloud();
  const hosts = new TeamHosts();
  const dirs: string[] = [];
  let a: Deployer;
  let b: Deployer;
  let glance: Glance;
  let glance2: Glance;
  let storePath: string;
  let sha: string;

  const outputs = async (s: Stack) =>
    Object.fromEntries(Object.entries(await s.outputs()).map(([k, v]) => [k, v.value]));
  const up = (d: Deployer) => d.stack.up({ onOutput: (o) => process.stderr.write(o) });
  const set = (d: Deployer, key: string, value: string) => d.stack.setConfig(`${NS}:${key}`, { value });
  const everything = async (g: Glance) =>
    [...(await g.images()), ...(await g.images({ hidden: true }))].map((i) => i.id).sort();
  const uploads = () => cloud.uploadSeconds().size;
  /** What a `git pull` of the team's stack settings does: one copy's Pulumi.team.yaml into the other. */
  const pull = (from: Deployer, to: Deployer) =>
    copyFileSync(
      path.join(from.project.dir, `Pulumi.${STACK}.yaml`),
      path.join(to.project.dir, `Pulumi.${STACK}.yaml`),
    );
  const tempDir = (prefix: string) => {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  /** A machine: its project copy (sharing `backend` when given), HOME and empty Nix store. */
  async function deployer(cloudsYaml: string, backend?: string): Promise<Deployer> {
    const project = makeProject();
    const nix = tempDir("nci-team-nix-");
    const home = tempDir("nci-team-home-");
    const env = { HOME: home, ...(backend ? { PULUMI_BACKEND_URL: backend } : {}) };
    const pulumiCommand = await pulumiWithOwnStore(nix);
    if (backend) {
      // The second machine selects the stack the first one made, with the team's settings file.
      return {
        project,
        nix,
        home,
        stack: await makeStack(project, STACK, { OS_CLIENT_CONFIG_FILE: cloudsYaml, ...env }, pulumiCommand),
      };
    }
    const { stack } = await fixtureStack(project, STACK, cloudsYaml, { env, pulumiCommand });
    return { project, nix, home, stack };
  }

  before(async function () {
    this.timeout(300_000);
    const cloudsYaml = await cloud.start();
    glance = new Glance(cloudsYaml, cloud.glanceUrl);
    glance2 = new Glance(cloudsYaml, cloud.glance2Url);
    const facts = await hosts.start();
    a = await deployer(cloudsYaml);
    // The team's settings, as README gives them: relative source (the same in every working copy), the
    // builder, and the cache every machine substitutes from.
    await set(a, "source", "test/fixtures/image");
    await set(
      a,
      "nixOptions",
      JSON.stringify({
        builders: facts.BUILDERS,
        "max-jobs": "0",
        substituters: facts.CACHE_URL,
        "trusted-public-keys": facts.CACHE_PUBLIC_KEY,
      }),
    );
  });

  after(async function () {
    this.timeout(300_000);
    if (a) await a.stack.destroy().catch(() => undefined);
    await hosts.stop();
    await cloud.stop();
    a?.project.remove();
    b?.project.remove();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("the build runs on the remote builder, and its result comes back for the upload", async () => {
    const { summary, stdout } = await up(a);
    assert.equal(summary.result, "succeeded");
    assert.match(stdout, REMOTE_BUILD, "Nix handed the build to the builder");
    const { imagePath, imageId } = await outputs(a.stack);
    storePath = path.dirname(imagePath);
    const name = path.basename(storePath);
    assert.ok(existsSync(path.join(hosts.facts.BUILDER_STORE, name)), "the builder's store holds the image");
    const local = path.join(a.nix, "store", name, "nixos.img");
    assert.ok(existsSync(local), "Nix copied it back to the deployer's store");
    sha = await sha512(local);
    const image = await glance.image(imageId);
    assert.deepEqual([image.status, image.os_hash_value], ["active", sha]);
    // The team's CI step after a build: into the signed cache.
    await hosts.push(a.nix, storePath);
  });

  it("a second machine (own HOME and Nix store, same backend) previews nothing to change", async () => {
    b = await deployer(cloud.cloudsYaml, a.project.backend);
    pull(a, b);
    assert.deepEqual(changed(await plannedOps(b.stack)), {});
    assert.deepEqual(readdirSync(path.join(b.nix)), [], "nothing touched its store");
  });

  it("a setting that needs no new image (visibility) from the second machine: no build, no upload, no file", async () => {
    const before = { images: await everything(glance), puts: uploads() };
    await set(b, "visibility", "public");
    const { summary, stdout } = await up(b);
    assert.equal(summary.result, "succeeded");
    assert.doesNotMatch(stdout, ANY_BUILD);
    assert.deepEqual([await everything(glance), uploads()], [before.images, before.puts]);
    assert.equal((await glance.image((await outputs(b.stack)).imageId)).visibility, "public");
    assert.equal(
      existsSync(path.join(b.nix, "store", path.basename(storePath))),
      false,
      "no image file here",
    );
  });

  it("a new region from the second machine with the cache down fails with Nix's message, and RegionTwo gets nothing", async () => {
    await hosts.down("cache");
    try {
      for (const [i, region] of ["RegionOne", "RegionTwo"].entries())
        await b.stack.setConfig(`${NS}:regions[${i}]`, { value: region }, true);
      await assert.rejects(up(b), (error: Error) => {
        assert.match(error.message, /could not be realised here, so it cannot be uploaded/);
        assert.match(error.message, /unable to download|Couldn't connect|Connection refused|no substituter/i);
        return true;
      });
      assert.deepEqual(await everything(glance2), []);
    } finally {
      await hosts.up("cache");
    }
  });

  it("with the cache back, the new region's upload substitutes the image from it and builds nothing", async () => {
    const { summary, stdout } = await up(b);
    assert.equal(summary.result, "succeeded");
    assert.doesNotMatch(stdout, ANY_BUILD, "nothing was built on the second machine");
    assert.match(stdout, new RegExp(`copying path '${storePath}' from '${hosts.facts.CACHE_URL}'`));
    const { stdout: info } = await inStore(b.nix, "nix", [
      "--extra-experimental-features",
      "nix-command",
      "path-info",
      "--json",
      storePath,
    ]);
    const [{ signatures, narSize }] = JSON.parse(info);
    assert.ok(
      signatures.some((s: string) => s.startsWith("nci-team-cache-1:")),
      "the path carries the cache's signature: substituted, not built",
    );
    const narinfo = readFileSync(
      path.join(hosts.dir, "cache", `${path.basename(storePath).slice(0, 32)}.narinfo`),
      "utf8",
    );
    const fileSize = Number(narinfo.match(/^FileSize: (\d+)$/m)![1]);
    process.stderr.write(
      `substituted ${narSize} bytes of NAR (${fileSize} bytes compressed) from the cache\n`,
    );
    const { imageIds } = await outputs(b.stack);
    const image = await glance2.image(imageIds.RegionTwo);
    assert.deepEqual([image.status, image.os_hash_value, image.visibility], ["active", sha, "public"]);
  });

  it("with the builder down, a build fails with Nix's message and nothing new reaches Glance", async () => {
    pull(b, a);
    const before = [await everything(glance), await everything(glance2)];
    await hosts.down("builder");
    try {
      await set(a, "diskSize", "1100");
      await assert.rejects(up(a), (error: Error) => {
        assert.match(error.message, /cannot connect to 'root@10\.98\.0\.2'/);
        assert.match(error.message, /unable to start any build/);
        return true;
      });
      assert.deepEqual([await everything(glance), await everything(glance2)], before);
    } finally {
      await hosts.up("builder");
    }
  });

  it("two ups of one stack at once: the second fails on the backend's lock; state and Glance stay whole", async () => {
    const before = [await everything(glance), await everything(glance2)];
    const first = up(a);
    // Wait until the first holds the backend's lock, then the second machine tries.
    const locks = path.join(new URL(a.project.backend).pathname, ".pulumi/locks");
    for (let i = 0; i < 600 && !hasFile(locks); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(hasFile(locks), "the first up took the lock");
    await assert.rejects(up(b), /the stack is currently locked by 1 lock/);
    assert.equal((await first).summary.result, "succeeded");
    const deployment = (await b.stack.exportStack()).deployment;
    assert.deepEqual(deployment.pending_operations ?? [], [], "no operation left pending");
    const { imageIds } = await outputs(b.stack);
    const after = [await everything(glance), await everything(glance2)];
    for (const [i, region] of ["RegionOne", "RegionTwo"].entries()) {
      assert.deepEqual(
        after[i].filter((id) => !before[i].includes(id)),
        [imageIds[region]],
        `${region}: exactly the first up's new generation`,
      );
    }
    pull(a, b);
    assert.deepEqual(changed(await plannedOps(b.stack)), {}, "both machines see one state");
  });

  it("the second machine destroys the stack: every generation in both regions goes", async () => {
    assert.equal((await b.stack.destroy()).summary.result, "succeeded");
    assert.deepEqual([await everything(glance), await everything(glance2)], [[], []]);
  });
});

/** Whether a directory holds a file anywhere below it. */
function hasFile(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true, withFileTypes: true }).some((e) => e.isFile());
}
