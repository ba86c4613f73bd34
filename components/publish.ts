import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import type { ResolvedArgs } from "./args.ts";
import type { BuiltImage } from "./build.ts";
import { storeHash } from "./imageInfo.ts";
import { imageProperties, minDiskGb } from "./properties.ts";
import { isNixpkgsUrl } from "./source.ts";

/** One region's copy of the build: `region` undefined is the provider's own region. */
export interface RegionImage {
  region: string | undefined;
  /** Resource names carry the region when regions are set ("nixos-image-RegionTwo"). */
  suffix: string;
  /** The family the generations of this region belong to (Glance property nixos_cloud_image_family). */
  family: string;
  image: openstack.images.Image;
}

/**
 * A family per stack, component and region named in `regions`: moving from the provider's region to named
 * regions starts new families, and the old one is removed with its resources (generations.ts), never the new.
 */
export function familyOf(owner: string, region: string | undefined): string {
  return region === undefined ? owner : `${owner}@${region}`;
}

/** The regions to publish to, with their resource name suffixes; none set is the provider's region, unsuffixed. */
export function publishRegions(args: ResolvedArgs): { region: string | undefined; suffix: string }[] {
  if (args.regions.length === 0) return [{ region: undefined, suffix: "" }];
  return args.regions.map((region) => ({ region, suffix: `-${region}` }));
}

/**
 * Uploads the built file to Glance, once per region. Every build is a new generation: a new Glance image,
 * created private and hidden (promote.ts applies visibility once its checks passed), never deleted by a
 * replacement (the generations step rotates, generations.ts).
 */
export function publishImage(
  name: string,
  args: ResolvedArgs,
  build: BuiltImage,
  owner: string,
  parent: pulumi.Resource,
): RegionImage[] {
  const { info } = build;
  const source = args.nixpkgs !== undefined && isNixpkgsUrl(args.nixpkgs) ? args.nixpkgs : undefined;
  const propertiesFor = (family: string) =>
    pulumi.all([info, build.builtAt]).apply(([i, builtAt]) =>
      imageProperties(
        i,
        {
          builtAt,
          family,
          source: source ?? i.channel,
          replaceFrequency: args.replaceFrequency,
          keepGenerations: args.keepGenerations,
        },
        args.properties,
      ),
    );
  return publishRegions(args).map(({ region, suffix }) => {
    const family = familyOf(owner, region);
    const image = new openstack.images.Image(
      `${name}-image${suffix}`,
      {
        name: args.imageName ?? info.apply((i) => `nixos-${i.nixosVersion}-${storeHash(i)}`),
        localFilePath: info.file,
        diskFormat: "raw",
        containerFormat: "bare",
        verifyChecksum: true,
        region,
        // From the size built, which with diskSize "auto" only the build knows.
        minDiskGb: info.apply((i) => minDiskGb(i.diskSize)),
        // Nobody sees a generation before its checks passed: promote.ts applies visibility and unhides it.
        visibility: "private",
        hidden: true,
        tags: args.tags.length > 0 ? args.tags : undefined,
        properties: propertiesFor(family),
      },
      {
        parent,
        dependsOn: [build.command],
        // Older generations stay for servers that boot by UUID; the generations step hides and deletes them.
        retainOnDelete: true,
        // The provider updates properties in place, but Glance then keeps old os_* values: a new generation
        // carries the new properties instead.
        replaceOnChanges: ["properties"],
        // The bridged provider asks to delete first whenever `name` is set explicitly (to avoid a name clash).
        // Names here are content-addressed and never clash, and servers may still boot from the old image
        // while the new one uploads: create the new one first, as the design promises.
        deleteBeforeReplace: false,
        customTimeouts: { create: `${args.uploadTimeoutMinutes}m` },
        // The provider defaults this download cache to $HOME, which differs between machines; it is unused
        // for local files, and must not show as a change when someone else runs the stack. The promote step
        // owns visibility and hidden.
        ignoreChanges: ["imageCachePath", "visibility", "hidden"],
      },
    );
    return { region, suffix, family, image };
  });
}
