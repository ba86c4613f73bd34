import type * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import type { ResolvedArgs } from "./settings.ts";
import { InvalidArgumentError } from "./resolve.ts";

// Settings that name things in the cloud are looked up by invokes, which run in preview as well: a name that
// does not exist fails `pulumi preview` and `pulumi up` before anything is created. The component waits for
// these before it registers itself.

type Verify = NonNullable<ResolvedArgs["verify"]>;

/** What the cloud (through the provider) said, without the invoke's wrapping: "invoking TOKEN: 1 error occurred: * ...". */
export function cloudAnswer(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text
    .replace(/^.*?invoking \S+: /s, "")
    .replace(/^\d+ errors? occurred:/, "")
    .replace(/\s*\n\s*(\*\s*)?/g, " ")
    .trim()
    .slice(0, 400);
}

async function mustExist(lookup: Promise<unknown>, setting: string, rule: string, value: string) {
  try {
    await lookup;
  } catch (error) {
    const invalid = new InvalidArgumentError(setting, rule, value);
    const answer = cloudAnswer(error);
    if (answer !== "") invalid.message += ` The cloud answered: ${answer}`;
    throw invalid;
  }
}

/** Looks up the flavor, the network and the pool of the test boot (in the region it boots in). */
export function checkVerifyTargets(
  verify: Verify,
  { region, ...opts }: pulumi.InvokeOptions & { region?: string } = {},
  prefix = "verify.",
): Promise<void> {
  const checks = [
    mustExist(
      openstack.compute.getFlavor({ name: verify.flavorName, region }, opts),
      `${prefix}flavorName`,
      "the name of a flavor that exists in the cloud",
      verify.flavorName,
    ),
    mustExist(
      openstack.networking.getNetwork({ name: verify.networkName, region }, opts),
      `${prefix}networkName`,
      "the name of a network that exists in the cloud",
      verify.networkName,
    ),
  ];
  if (verify.floatingIpPool !== undefined) {
    checks.push(
      mustExist(
        openstack.networking.getNetwork({ name: verify.floatingIpPool, external: true, region }, opts),
        `${prefix}floatingIpPool`,
        "the name of an external network (a floating IP pool) that exists in the cloud",
        verify.floatingIpPool,
      ),
    );
  }
  return Promise.all(checks).then(() => undefined);
}

/**
 * Asks each region for its images (one that no image has, so the answer is empty): a region that the cloud's
 * catalog does not know, or that has no image service, fails.
 */
export function checkRegions(
  regions: string[],
  opts: pulumi.InvokeOptions = {},
  prefix = "regions",
): Promise<void> {
  const checks = regions.map((region, i) =>
    mustExist(
      openstack.images.getImageIds({ region, tag: "nixos-cloud-image-region-check" }, opts),
      `${prefix}[${i}]`,
      "a region of the cloud with an image service (Glance)",
      region,
    ),
  );
  return Promise.all(checks).then(() => undefined);
}

/** Every lookup the settings need (regions, the test boot's targets in its region), or undefined for none. */
export function checkCloudTargets(args: ResolvedArgs, opts: pulumi.InvokeOptions): Promise<void> | undefined {
  const checks: Promise<void>[] = [];
  if (args.regions.length > 0) checks.push(checkRegions(args.regions, opts));
  // The test boot runs in the first region (the provider's own without regions).
  if (args.verify) checks.push(checkVerifyTargets(args.verify, { ...opts, region: args.regions[0] }));
  return checks.length > 0 ? Promise.all(checks).then(() => undefined) : undefined;
}
