import * as pulumi from "@pulumi/pulumi";
import type * as openstack from "@pulumi/openstack";
import type { NixosImageArgs } from "./args.ts";
import { buildImage } from "./build.ts";
import { rotateGenerations } from "./generations.ts";
import type { RotationPlan } from "./generations.ts";
import type { ImageInfo } from "./imageInfo.ts";
import { promoteImage } from "./promote.ts";
import { publishImage } from "./publish.ts";
import { shareImage } from "./share.ts";
import { resolveArgs } from "./validate.ts";
import { checkCloudTargets } from "./cloudChecks.ts";
import { verifyImage } from "./verify.ts";
import type { VerificationReport } from "./verify.ts";

/**
 * The caller's dependsOn, once the checks of `gate` have passed (a registration waits for its dependsOn). When
 * they fail, their error is left unhandled, once, and the program ends with it; the registrations keep waiting
 * rather than each failing with it (Pulumi would prefix the one error with every property it reached).
 */
function gatedDependsOn(
  gate: Promise<void>,
  dependsOn: pulumi.ComponentResourceOptions["dependsOn"],
): pulumi.Input<pulumi.Input<pulumi.Resource>[]> {
  const passed = new Promise<unknown>((resolve) => {
    void gate.then(() => resolve(dependsOn ?? []));
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
      checks ? { ...opts, dependsOn: gatedDependsOn(checks, opts?.dependsOn) } : opts,
    );

    // build → publish (each region) → verify (in the first) → promote → share → rotate: no stage looks back,
    // and only the family's end (family.ts) deletes images.
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
