// The real Keystone + Glance of scripts/localcloud (RegionOne, and a Glance of its own in each other region:
// RegionTwo by default, up to RegionFive), on ports of the tests' own so a developer's running local cloud is
// left alone. Whoever starts it (a test file, the benchmark) also stops it on Ctrl-C or SIGTERM: an
// interrupted run must not leave Keystone and the Glances running.
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { stopCloudSync, stopOnSignal } from "./stopOnSignal.ts";

const SCRIPTS = fileURLToPath(new URL("../../../scripts/localcloud", import.meta.url));
const PORTS = { KEYSTONE_PORT: "15000", GLANCE_PORT: "19292", GLANCE2_PORT: "19293" };
const REGIONS = ["RegionOne", "RegionTwo", "RegionThree", "RegionFour", "RegionFive"];

export class LocalCloud {
  readonly state: string;
  readonly glanceUrl = `http://127.0.0.1:${PORTS.GLANCE_PORT}`;
  /** RegionTwo's Glance (same Keystone; clients pick it with region RegionTwo). */
  readonly glance2Url = `http://127.0.0.1:${PORTS.GLANCE2_PORT}`;
  /** Each region's Glance, by region name (RegionOne's is `glanceUrl`, RegionTwo's `glance2Url`). */
  readonly glanceUrls: Record<string, string> = {};
  cloudsYaml = "";
  private readonly env: Record<string, string>;
  private unlisten: (() => void) | undefined;

  /** `regions`: how many, 1 to 5 (RegionOne, RegionTwo, ...); region i's Glance listens on 19292 + i - 1. */
  constructor(regions = 2) {
    if (!Number.isInteger(regions) || regions < 1 || regions > REGIONS.length)
      throw new RangeError(`LocalCloud: 1 to ${REGIONS.length} regions, not ${regions}`);
    this.state = mkdtempSync(path.join(tmpdir(), "nci-cloud-"));
    this.env = { ...PORTS, LOCALCLOUD_REGIONS: String(regions) };
    for (const [i, region] of REGIONS.slice(0, regions).entries()) {
      const port = String(Number(PORTS.GLANCE_PORT) + i);
      if (i >= 2) this.env[`GLANCE${i + 1}_PORT`] = port; // GLANCE3_PORT=19294, ...
      this.glanceUrls[region] = `http://127.0.0.1:${port}`;
    }
  }

  /** Starts (or restarts whatever is not running) and returns the clouds.yaml path. */
  async start(): Promise<string> {
    const starting = execa(path.join(SCRIPTS, "start.sh"), [this.state], {
      env: this.env,
      stderr: "inherit",
    });
    this.unlisten?.();
    this.unlisten = stopOnSignal("the local cloud", () => stopCloudSync(this.state, starting));
    const { stdout } = await starting;
    this.cloudsYaml = stdout.trim().split("\n").pop()!;
    return this.cloudsYaml;
  }

  /** Stops and purges it; again, a no-op. */
  async stop(): Promise<void> {
    if (!existsSync(this.state)) return;
    this.unlisten?.();
    this.unlisten = undefined;
    await execa(path.join(SCRIPTS, "stop.sh"), ["--purge", this.state], { stderr: "inherit" });
  }

  /** Seconds Glance spent on each image data upload (PUT .../file), by image ID, from its access log. */
  uploadSeconds(): Map<string, number> {
    const log = readFileSync(path.join(this.state, "log/glance-api.log"), "utf8");
    const puts = log.matchAll(/"PUT \/v2\/images\/([0-9a-f-]+)\/file HTTP\/1\.1" 204 \d+ ([\d.]+)/g);
    return new Map([...puts].map((m) => [m[1], Number(m[2])]));
  }

  /** Kills Glance at once, as a crash would. */
  killGlance(): void {
    const pid = Number(readFileSync(path.join(this.state, "run/glance.pid"), "utf8"));
    process.kill(pid, "SIGKILL");
  }
}
