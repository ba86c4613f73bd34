// npm run bench: upload throughput of `pulumi up` against a plain curl PUT of the same 1 GiB file, the
// provider's peak memory during that upload, the overhead of a no-op up/preview of this stack against
// an empty program with the same plugins, and (bench/verify.ts, on the local compute cloud) the test boot
// against the guest's own boot, and (bench/regions.ts) a publish to three regions against one. Every ratio
// uses a baseline measured in the same run.
// BENCH_VERIFY=0 leaves out the compute cloud part (a few minutes of TCG guests).
import { mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { buildIdentity, defaultSource } from "../components/source.ts";
import { Glance } from "../test/e2e/support/glance.ts";
import { LocalCloud } from "../test/e2e/support/localCloud.ts";
import { makeProject, makeStack } from "../test/e2e/support/project.ts";
import { withPeakRss } from "./peakRss.ts";
import { benchRegions } from "./regions.ts";
import { timedStep } from "./timedStep.ts";
import { benchVerify } from "./verify.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const MiB = 1024 * 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const seconds = async (task: () => Promise<unknown>) => {
  const start = performance.now();
  await task();
  return (performance.now() - start) / 1000;
};
const log = (line: string) => process.stderr.write(`bench: ${line}\n`);

/** A 1 GiB image of random bytes: the fixture with fill = "random", behind the component's arguments. */
function randomImageSource(projectDir: string): string {
  const dir = path.join(projectDir, "bench-image");
  mkdirSync(dir);
  writeFileSync(
    path.join(dir, "default.nix"),
    "{ kernelLatest ? true, diskSize ? 1024, nixpkgs ? null }:\n" +
      'import ../test/fixtures/image { inherit kernelLatest diskSize nixpkgs; fill = "random"; }\n',
  );
  return dir;
}

/** A program with no resources but the same two providers, so both plugins start as in the real stack. */
function emptyProgram(projectDir: string): string {
  const dir = path.join(projectDir, "..", "empty");
  mkdirSync(dir);
  for (const f of ["package.json", "tsconfig.json", "node_modules"]) {
    symlinkSync(path.join(projectDir, f), path.join(dir, f));
  }
  writeFileSync(
    path.join(dir, "Pulumi.yaml"),
    'name: empty\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n    nodeargs: "--import tsx"\nmain: index.ts\n',
  );
  writeFileSync(
    path.join(dir, "index.ts"),
    'import * as openstack from "@pulumi/openstack";\nimport * as command from "@pulumi/command";\n' +
      'new openstack.Provider("openstack", { cloud: "local" });\nnew command.Provider("command");\n',
  );
  return dir;
}

async function main() {
  // Three regions, each with a Glance of its own, for the regions figure.
  const cloud = new LocalCloud(3);
  const project = makeProject();
  try {
    const cloudsYaml = await cloud.start();
    const glance = new Glance(cloudsYaml, cloud.glanceUrl);
    const env = { OS_CLIENT_CONFIG_FILE: cloudsYaml, OS_CLOUD: "local" };
    const source = randomImageSource(project.dir);

    log("building the 1 GiB random image");
    const { stdout: out } = await execa("nix-build", [source, "--no-out-link"]);
    const file = path.join(out.trim(), "nixos.img");
    const bytes = statSync(file).size;

    const token = await glance.authToken();
    const curlRuns: number[] = [];
    const curlIds: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      const id = await glance.create(`bench-curl-${i}`);
      curlIds.push(id);
      curlRuns.push(
        await seconds(() =>
          execa("curl", [
            "-sS",
            "-f",
            "-T",
            file,
            "-H",
            `X-Auth-Token: ${token}`,
            "-H",
            "Content-Type: application/octet-stream",
            glance.fileUrl(id),
          ]),
        ),
      );
      await glance.remove(id);
    }

    const stack = await makeStack(project, "bench", env);
    await stack.setAllConfig({
      "openstack:cloud": { value: "local" },
      "nixos-cloud-image:source": { value: source },
    });
    log("pulumi up (upload)");
    const { result: upSeconds, peakMiB } = await withPeakRss(/pulumi-resource-openstack/, () =>
      // The image step: MD5, upload, wait for active.
      timedStep(stack, "nixos-image"),
    );
    // Glance's own timing of each PUT: the transfer alone, measured the same way for curl and the provider.
    const putSeconds = cloud.uploadSeconds();
    const providerPut = putSeconds.get((await stack.outputs()).imageId.value as string);
    const curlPut = Math.min(...curlIds.map((id) => putSeconds.get(id)!));
    if (providerPut === undefined) throw new Error("Glance logged no upload for the stack's image");

    log("no-op ups and previews");
    const stackUps: number[] = [];
    const stackPreviews: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      stackUps.push(await seconds(() => stack.up()));
      stackPreviews.push(await seconds(() => stack.preview()));
    }
    const empty = await makeStack({ ...project, dir: emptyProgram(project.dir) }, "bench-empty", env);
    await empty.up();
    const emptyUps: number[] = [];
    const emptyPreviews: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      emptyUps.push(await seconds(() => empty.up()));
      emptyPreviews.push(await seconds(() => empty.preview()));
    }
    await stack.destroy();
    await empty.destroy();
    const regions = await benchRegions(project, env, source, log);

    const identityStart = performance.now();
    for (let i = 0; i < 100; i++)
      buildIdentity({ source: defaultSource(), kernelLatest: true, diskSize: 1024, nixpkgs: undefined });
    const identityMs = (performance.now() - identityStart) / 100;

    const curlMBs = bytes / MiB / Math.min(...curlRuns);
    const upMBs = bytes / MiB / upSeconds;
    const transferRatio = curlPut / providerPut;
    const figures = {
      imageMiB: bytes / MiB,
      curlPutMiBps: Number(curlMBs.toFixed(1)),
      pulumiUpUploadMiBps: Number(upMBs.toFixed(1)),
      uploadRatio: Number((upMBs / curlMBs).toFixed(3)),
      glancePutSecondsCurl: Number(curlPut.toFixed(2)),
      glancePutSecondsProvider: Number(providerPut.toFixed(2)),
      transferRatio: Number(transferRatio.toFixed(3)),
      providerPeakRssMiB: Number(peakMiB.toFixed(1)),
      noopUpSeconds: Number(median(stackUps).toFixed(2)),
      emptyNoopUpSeconds: Number(median(emptyUps).toFixed(2)),
      noopUpRatio: Number((median(stackUps) / median(emptyUps)).toFixed(3)),
      previewSeconds: Number(median(stackPreviews).toFixed(2)),
      emptyPreviewSeconds: Number(median(emptyPreviews).toFixed(2)),
      previewRatio: Number((median(stackPreviews) / median(emptyPreviews)).toFixed(3)),
      buildIdentityMs: Number(identityMs.toFixed(3)),
      oneRegionUpSeconds: Number(regions.one.toFixed(1)),
      threeRegionUpSeconds: Number(regions.three.toFixed(1)),
      threeRegionRatio: Number((regions.three / regions.one).toFixed(3)),
    };
    console.log(
      `transfer (Glance's time for the PUT): provider ${figures.glancePutSecondsProvider} s vs curl ${figures.glancePutSecondsCurl} s = ${figures.transferRatio} (goal >= 0.9)`,
    );
    console.log(
      `image step of pulumi up (MD5 + PUT + the provider's fixed 10 s wait before it polls for active): ${figures.pulumiUpUploadMiBps} MiB/s vs curl PUT ${figures.curlPutMiBps} MiB/s = ${figures.uploadRatio}`,
    );
    console.log(`provider peak RSS during the upload: ${figures.providerPeakRssMiB} MiB`);
    console.log(
      `no-op up: ${figures.noopUpSeconds} s vs empty program ${figures.emptyNoopUpSeconds} s = ${figures.noopUpRatio} (goal <= 1.2)`,
    );
    console.log(
      `preview: ${figures.previewSeconds} s vs empty program ${figures.emptyPreviewSeconds} s = ${figures.previewRatio}; build identity ${figures.buildIdentityMs} ms`,
    );
    console.log(
      `publish of the 1 GiB image (pulumi up, build cached): three regions ${figures.threeRegionUpSeconds} s vs one ${figures.oneRegionUpSeconds} s = ${figures.threeRegionRatio}`,
    );
    // One cloud at a time: the compute cloud starts after Keystone + Glance of the upload figures stop.
    await cloud.stop();
    if (process.env.BENCH_VERIFY !== "0") {
      const { result: boot, peakMiB: tierMiB } = await benchVerify(log);
      Object.assign(figures, {
        guestBootToSshdSeconds: Number(boot.boot.toFixed(1)),
        verifySeconds: Number(boot.verify.toFixed(1)),
        verifyRatio: Number((boot.verify / boot.boot).toFixed(3)),
        floatingIpVerifySeconds: Number(boot.floatingIp.toFixed(1)),
        floatingIpVerifyRatio: Number((boot.floatingIp / boot.boot).toFixed(3)),
        computeTierPeakRssMiB: Math.round(tierMiB),
      });
      console.log(
        `verification in pulumi up: ${boot.verify.toFixed(1)} s vs the guest's own server create → SSH banner ${boot.boot.toFixed(1)} s = ${(boot.verify / boot.boot).toFixed(3)} (goal <= 1.3)`,
      );
      console.log(
        `verification through a floating IP (tenant network): ${boot.floatingIp.toFixed(1)} s vs the same banner time = ${(boot.floatingIp / boot.boot).toFixed(3)} (goal <= 1.3)`,
      );
      console.log(`peak memory of the compute tier (services, guests, pulumi): ${Math.round(tierMiB)} MiB`);
    }
    console.log(JSON.stringify(figures));
  } finally {
    await cloud.stop();
    project.remove();
  }
}

await main();
