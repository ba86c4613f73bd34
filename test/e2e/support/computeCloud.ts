// One real compute cloud (scripts/localcloud/start.sh --compute: Keystone, Glance, Placement, Nova, Neutron,
// libvirt/QEMU) for the whole engine tier: started by the first test file that asks for it, reused by the
// others, stopped by the root hook (hooks.ts) and on SIGINT/SIGTERM. Everything of it, guests included, lives
// in a network namespace of its own; clients reach it only through exec() (`ip netns exec`).
//
// NCI_COMPUTE_STATE=DIR keeps the cloud in DIR and leaves it running after the run (a developer's faster
// second run); without it, a fresh temporary state dir is purged at the end.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import type { Options, Result } from "execa";
import { stopCloudSync, stopOnSignal } from "./stopOnSignal.ts";

const SCRIPTS = fileURLToPath(new URL("../../../scripts/localcloud", import.meta.url));
const COUNTS_PY = fileURLToPath(new URL("./openstack_counts.py", import.meta.url));
/** Debian's python3, which has openstacksdk (a python3 earlier on PATH may not). */
const PYTHON = "/usr/bin/python3";

/** What a test run may leave behind in Nova and Neutron, all projects and users together. */
export interface ResourceCounts {
  servers: number;
  keyPairs: number;
  /** Security groups other than the projects' own "default" ones. */
  securityGroups: number;
  /** Neutron ports bound to servers (device_owner compute:*). */
  serverPorts: number;
  floatingIps: number;
}

export class ComputeCloud {
  constructor(
    readonly state: string,
    /** The clouds.yaml of the cloud: `local` (admin) and `local-demo`. */
    readonly cloudsYaml: string,
    /** The name of the cloud's network namespace. */
    readonly netns: string,
  ) {}

  /** Runs a command inside the cloud's namespace (execa options as usual; OS_CLIENT_CONFIG_FILE is set). */
  exec(cmd: string, args: readonly string[] = [], opts: Options = {}): Promise<Result> {
    return execa(path.join(SCRIPTS, "exec.sh"), [this.state, cmd, ...args], {
      ...opts,
      env: { OS_CLIENT_CONFIG_FILE: this.cloudsYaml, ...opts.env },
    }) as unknown as Promise<Result>;
  }

  /** The openstack CLI as admin; with `-f json` among the arguments, the parsed output. */
  async openstack(args: readonly string[], cloud = "local"): Promise<any> {
    const result = await this.exec("openstack", ["--os-cloud", cloud, ...args], {
      env: { OS_CLOUD: cloud },
    });
    const json = args.some((arg, i) => arg === "-f" && args[i + 1] === "json");
    return json ? JSON.parse(String(result.stdout)) : String(result.stdout);
  }

  /** The numbers of servers, key pairs, security groups, server ports and floating IPs in the cloud. */
  async count(): Promise<ResourceCounts> {
    const { stdout } = await this.exec(PYTHON, [COUNTS_PY]);
    return JSON.parse(String(stdout)) as ResourceCounts;
  }

  /**
   * How to run a command in a router's own namespace (qrouter-<id>, on the tenant network and the external one),
   * and its address on the external network. Neutron's router namespaces exist only in the mount namespace of
   * the agents, so the command enters the L3 agent's first.
   */
  async router(name = "router"): Promise<{ enter: string[]; gateway: string }> {
    const router = await this.openstack(["router", "show", name, "-f", "json"]);
    const pid = readFileSync(path.join(this.state, "run", "neutron-l3.pid"), "utf8").trim();
    const gateway = router.external_gateway_info?.external_fixed_ips?.[0]?.ip_address as string;
    return {
      enter: [
        "nsenter",
        `--target=${pid}`,
        "--mount",
        "--net",
        "ip",
        "netns",
        "exec",
        `qrouter-${router.id}`,
      ],
      gateway,
    };
  }

  /** The server's console output as Nova keeps it. */
  async consoleLog(serverId: string): Promise<string> {
    return this.openstack(["console", "log", "show", serverId]);
  }
}

let started: Promise<ComputeCloud> | undefined;
let stateDir: string | undefined;
const keep = process.env.NCI_COMPUTE_STATE;

let unlisten: (() => void) | undefined;

/** The run's compute cloud, started on first use (about 1-2 minutes) and shared from then on. */
export function computeCloud(): Promise<ComputeCloud> {
  started ??= (async () => {
    stateDir = keep ?? mkdtempSync(path.join(tmpdir(), "nci-compute-"));
    const state = stateDir;
    const starting = execa(path.join(SCRIPTS, "start.sh"), ["--compute", state], { stderr: "inherit" });
    unlisten = stopOnSignal("the compute cloud", () => {
      if (!keep) stopCloudSync(state, starting);
    });
    try {
      const { stdout } = await starting;
      const cloudsYaml = String(stdout).trim().split("\n").pop()!;
      const netns = readFileSync(path.join(stateDir, "netns"), "utf8").trim();
      return new ComputeCloud(stateDir, cloudsYaml, netns);
    } catch (error) {
      await stopComputeCloud();
      throw error;
    }
  })();
  return started;
}

/**
 * Stops the cloud if this run started one (the root hook calls it), and checks that nothing of it remains:
 * no namespace, no process naming its state dir.
 */
export async function stopComputeCloud(): Promise<void> {
  if (stateDir === undefined) return;
  const state = stateDir;
  const ns = readFileSync(path.join(state, "netns"), "utf8").trim();
  unlisten?.();
  unlisten = undefined;
  if (keep) return;
  await execa(path.join(SCRIPTS, "stop.sh"), ["--purge", state], { stderr: "inherit" });
  stateDir = undefined;
  started = undefined;
  const namespaces = String((await execa("ip", ["netns", "list"])).stdout);
  if (namespaces.split("\n").some((line) => line.split(" ")[0] === ns))
    throw new Error(`stop.sh left the network namespace ${ns}`);
  const left = processesNaming(state);
  if (left.length > 0) throw new Error(`stop.sh left processes of ${state}: ${left.join(", ")}`);
}

/** PIDs whose command line contains DIR/ (a local cloud's daemons all name their state dir). */
export function processesNaming(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(`${dir}/`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}
