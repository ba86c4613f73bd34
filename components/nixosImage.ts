import * as pulumi from "@pulumi/pulumi";
import type * as openstack from "@pulumi/openstack";
import type { NixosImageArgs } from "./args.ts";
import { buildImage } from "./build.ts";
import { rotateGenerations } from "../stages/generations/declare.ts";
import type { RotationPlan } from "../stages/generations/declare.ts";
import type { ImageInfo } from "./imageInfo.ts";
import { promoteImage } from "../stages/promote/declare.ts";
import { publishImage } from "./publish.ts";
import { shareImage } from "./share.ts";
import { resolveArgs } from "./resolve.ts";
import { checkCloudTargets } from "./cloudChecks.ts";
import { verifyImage } from "../stages/testboot/declare.ts";
import type { VerificationReport } from "../stages/testboot/declare.ts";

/**
 * The caller's dependsOn, once the cloud checks have passed (a registration waits for its dependsOn). When one
 * fails, the program ends with its error, once: it is thrown outside any promise, so Pulumi's runner reports it
 * as the program's error and exits, and the registrations keep waiting. (Rejecting the dependsOn instead would
 * fail every registration with the error, each prefixed with every property Pulumi reached.)
 */
function afterChecks(
  checks: Promise<void>,
  dependsOn: pulumi.ComponentResourceOptions["dependsOn"],
): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
  const passed = new Promise<unknown>((resolve) => {
    checks.then(
      () => resolve(dependsOn ?? []),
      (error: unknown) =>
        setImmediate(() => {
          throw error;
        }),
    );
  });
  return pulumi.output(passed) as pulumi.Input<pulumi.Input<pulumi.Resource>[]>;
}

/**
 * A NixOS raw image built with nix-build, published to Glance (in each of `regions`) as a new generation and,
 * when asked, proven by a test boot that leaves nothing behind, before it is made visible, shared, and older
 * generations are rotated.
 */
export class NixosImage extends pulumi.ComponentResource {
  /** Glance ID of the newest generation (in the first region, when `regions` are set). */
  public readonly imageId: pulumi.Output<string>;
  /** Region → Glance ID of the newest generation there. */
  public readonly imageIds: pulumi.Output<Record<string, string>>;
  /** Glance name of the published image. */
  public readonly imageName: pulumi.Output<string>;
  /** The built raw file in the Nix store. */
  public readonly imagePath: pulumi.Output<string>;
  /** The build's image-info.json (NixOS and kernel versions, system, ...). */
  public readonly imageInfo: pulumi.Output<ImageInfo>;
  /** Region → what the next new generation will do there: the image IDs it hides and deletes. */
  public readonly rotationPlan: pulumi.Output<Record<string, RotationPlan>>;
  /** The test boot's report (checks, timings); null when `verify` is not set (an undefined output would warn on every run). */
  public readonly verification: pulumi.Output<VerificationReport | null>;

  constructor(name: string, args: NixosImageArgs, opts?: pulumi.ComponentResourceOptions) {
    // Validate before super(): a bad argument must not register even the component itself.
    const resolved = resolveArgs(args);
    // A region, flavor, network or pool that does not exist fails before even the component registers.
    const checks = checkCloudTargets(resolved, opts?.provider ? { provider: opts.provider } : {});
    super(
      "nixos-cloud-image:index:NixosImage",
      name,
      {},
      checks ? { ...opts, dependsOn: afterChecks(checks, opts?.dependsOn) } : opts,
    );

    // build → publish (each region) → verify (in the first) → promote → share → rotate: no stage looks back,
    // and only the family's end (stages/family/) deletes images.
    const build = buildImage(name, resolved, this);
    const published = publishImage(name, resolved, build, this);
    const verified = resolved.verify && verifyImage(name, resolved.verify, build, published, this);
    const memberProviders = new Map<string, openstack.Provider>();
    const plans = published.map((copy) => {
      const checked = verified ? [verified.command] : [];
      const promoted = promoteImage(name, resolved, build, copy, checked, this);
      const shares = shareImage(name, resolved, copy, promoted, memberProviders, this);
      const rotation = rotateGenerations(name, resolved, build, copy, [promoted, ...shares], this);
      return pulumi.all([copy.image.region, rotation.plan]);
    });

    const image = published[0].image;
    this.imageId = image.id;
    this.imageIds = pulumi
      .all(published.map((p) => pulumi.all([p.image.region, p.image.id])))
      .apply((pairs) => Object.fromEntries(pairs));
    this.imageName = image.name;
    this.imagePath = build.info.file;
    this.imageInfo = build.info;
    this.rotationPlan = pulumi.all(plans).apply((pairs) => Object.fromEntries(pairs));
    this.verification = verified ? verified.report : pulumi.output(null);
    this.registerOutputs({
      imageId: this.imageId,
      imageIds: this.imageIds,
      imageName: this.imageName,
      imagePath: this.imagePath,
      imageInfo: this.imageInfo,
      rotationPlan: this.rotationPlan,
      verification: this.verification,
    });
  }
}
