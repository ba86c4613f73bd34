// npm run bench's test-boot figures, on the local compute cloud: how long the component's verification
// takes in `pulumi up` against the guest's own time from `server create` to an SSH banner (the part no
// verifier can shorten), and the peak memory of the whole tier (cloud services, guests, pulumi).
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { execa } from "execa";
import { computeCloud, stopComputeCloud } from "../test/e2e/support/computeCloud.ts";
import type { ComputeCloud } from "../test/e2e/support/computeCloud.ts";
import { guestInfo, guestSource } from "../test/e2e/support/guests.ts";
import { pulumiInNetns } from "../test/e2e/support/wrappedPulumi.ts";
import { makeProject, makeStack } from "../test/e2e/support/project.ts";
import { withPeakTotalRss } from "./peakRss.ts";
import { timedStep } from "./timedStep.ts";
import { VERIFIED_PROPERTY } from "../stages/program/marks.ts";

const VERIFY = { flavorName: "m1.verify", networkName: "provider", sshSourceCidr: "10.99.0.0/24" };
/** The floating-IP path: the server on the tenant network behind the router, reached through a floating IP. */
const TENANT = { ...VERIFY, networkName: "tenant", floatingIpPool: "provider" };
const RUNS = Number(process.env.BENCH_BOOT_RUNS ?? 2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Seconds from `server create` to the guest's SSH banner, with a plain server of the same image. */
async function bootToSshd(cloud: ComputeCloud, imageId: string, group: string, i: number): Promise<number> {
  const start = performance.now();
  const server = await cloud.openstack([
    ...[
      "server",
      "create",
      "--image",
      imageId,
      "--flavor",
      VERIFY.flavorName,
      "--network",
      VERIFY.networkName,
    ],
    ...["--security-group", group, "--wait", "-f", "json", `bench-boot-${i}`],
  ]);
  try {
    const ip = /(\d+\.\d+\.\d+\.\d+)/.exec(JSON.stringify(server.addresses))![1];
    // The banner, read from inside the namespace: sshd is up and answering.
    await cloud.exec("timeout", [
      "600",
      "sh",
      "-c",
      `until timeout 3 bash -c 'exec 3<>/dev/tcp/${ip}/22 && head -c 4 <&3' 2>/dev/null | grep -q SSH; do sleep 1; done`,
    ]);
    return (performance.now() - start) / 1000;
  } finally {
    await cloud.openstack(["server", "delete", "--wait", server.id]);
  }
}

export async function benchVerify(log: (line: string) => void) {
  const cloud = await computeCloud();
  const project = makeProject();
  try {
    return await withPeakTotalRss(
      (cmdline) => cmdline.includes(cloud.state) || /pulumi|qemu-system|nixos-image/.test(cmdline),
      async () => {
        const source = await guestSource("good");
        const { diskSize } = await guestInfo("good");
        const { stdout } = await execa("nix-build", [
          source,
          "--argstr",
          "diskSize",
          "auto",
          "--no-out-link",
        ]);
        const file = JSON.parse(readFileSync(`${stdout.trim()}/nix-support/image-info.json`, "utf8")).file;

        log("the guest's own boot: server create → SSH banner");
        const image = await cloud.openstack([
          ...["image", "create", "--disk-format", "raw", "--container-format", "bare"],
          ...["--file", file, "-f", "json", "bench-guest"],
        ]);
        const group = await cloud.openstack(["security", "group", "create", "bench-ssh", "-f", "json"]);
        const boots: number[] = [];
        try {
          await cloud.openstack([
            ...["security", "group", "rule", "create", "--ingress", "--protocol", "tcp"],
            ...["--dst-port", "22", "--remote-ip", VERIFY.sshSourceCidr, group.id],
          ]);
          for (let i = 0; i < RUNS; i++) boots.push(await bootToSshd(cloud, image.id, group.id, i));
        } finally {
          await cloud.openstack(["security", "group", "delete", group.id]);
          await cloud.openstack(["image", "delete", image.id]);
        }

        log("verification in pulumi up (the image's earlier verdict forgotten before each run)");
        const stack = await makeStack(
          project,
          "bench-verify",
          { OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml },
          await pulumiInNetns(cloud.netns),
        );
        await stack.setAllConfig({
          "openstack:cloud": { value: "local" },
          "nixos-cloud-image:source": { value: source },
        });
        const verifies: number[] = [];
        const floating: number[] = [];
        try {
          for (const [times, settings] of [
            [verifies, VERIFY],
            [floating, TENANT],
          ] as const) {
            await stack.setConfig("nixos-cloud-image:verify", { value: JSON.stringify(settings) });
            for (let i = 0; i < RUNS; i++) {
              // Another size is another build, so the check runs again; the guest's bytes stay the same, and
              // bytes that passed never boot again: their recorded verdict is removed first.
              const size = diskSize + verifies.length + floating.length;
              await stack.setConfig("nixos-cloud-image:diskSize", { value: String(size) });
              const before = (await stack.outputs()).imageId?.value as string | undefined;
              if (before) await cloud.openstack(["image", "unset", "--property", VERIFIED_PROPERTY, before]);
              const took = await timedStep(stack, "nixos-verify");
              // A step of no time is a check that did not run (its Command was not replaced): no figure.
              if (took < 1) throw new Error(`run ${i + 1} of the check took ${took} s: nothing booted`);
              times.push(took);
              const report = (await stack.outputs()).verification?.value as { alreadyVerified?: string };
              if (report?.alreadyVerified) throw new Error(`nothing booted: ${report.alreadyVerified}`);
            }
          }
        } finally {
          await stack.destroy();
        }
        return { boot: median(boots), verify: median(verifies), floatingIp: median(floating) };
      },
    );
  } finally {
    project.remove();
    await stopComputeCloud();
  }
}
