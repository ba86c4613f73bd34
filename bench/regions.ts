// The same build published to one region and to three (the local cloud's RegionOne..RegionThree, one Glance
// each), as `pulumi up` of a fresh stack: upload, SHA-512 check and rotation per region, in parallel.
import { performance } from "node:perf_hooks";
import { makeStack } from "../test/e2e/support/project.ts";
import type { Project } from "../test/e2e/support/project.ts";

export const THREE_REGIONS = ["RegionOne", "RegionTwo", "RegionThree"];

/** Seconds of `pulumi up` (build already in the Nix store) for one region and for three. */
export async function benchRegions(
  project: Project,
  env: Record<string, string>,
  source: string,
  log: (line: string) => void,
): Promise<{ one: number; three: number }> {
  const seconds: number[] = [];
  for (const regions of [THREE_REGIONS.slice(0, 1), THREE_REGIONS]) {
    const stack = await makeStack(project, `bench-regions-${regions.length}`, env);
    await stack.setAllConfig({
      "openstack:cloud": { value: "local" },
      "nixos-cloud-image:source": { value: source },
    });
    for (const [i, region] of regions.entries()) {
      await stack.setConfig(`nixos-cloud-image:regions[${i}]`, { value: region }, true);
    }
    log(`pulumi up to ${regions.join(", ")}`);
    const start = performance.now();
    await stack.up();
    seconds.push((performance.now() - start) / 1000);
    await stack.destroy();
  }
  return { one: seconds[0], three: seconds[1] };
}
