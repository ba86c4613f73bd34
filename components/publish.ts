import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import type { ResolvedArgs } from "./settings.ts";
import type { BuiltImage } from "./build.ts";
import { imageFamily } from "../stages/family/declare.ts";
import type { ImageFamily } from "../stages/family/declare.ts";
import { storeHash } from "./imageInfo.ts";
import { imageProperties, minDiskGb } from "./properties.ts";
import { isNixpkgsUrl } from "./source.ts";
import { ensureStoreFile } from "./storeFile.ts";
import { formerSuffix, providerRegion, publishRegions, regionAliases } from "./regions.ts";

/** One region's copy of the build: `region` undefined is the provider's own region. */
export interface RegionImage {
  region: string | undefined;
  /** Resource names carry the region when regions are set ("nixos-image-RegionTwo"). */
  suffix: string;
  /** The suffix the same resources had without `regions`, or with it (see formerSuffix). */
  formerSuffix: pulumi.Output<string>;
  /** The family the generations of this region belong to. */
  family: ImageFamily;
  image: openstack.images.Image;
  /** Every Glance property the image carries (standard, SCS, the family ID, the user's). */
  properties: pulumi.Output<Record<string, string>>;
}

/**
 * Uploads the built file to Glance, once per region and once per store path: the same bytes are the same
 * image, whatever rebuilt them. An image is created private and hidden (stages/promote/ applies visibility once its
 * checks passed); its metadata changes in place (stages/promote/); Pulumi never deletes it (only the family's
 * rotation and end do, stages/generations/ and stages/family/).
 */
export function publishImage(
  name: string,
  args: ResolvedArgs,
  build: BuiltImage,
  parent: pulumi.Resource,
): RegionImage[] {
  const { info } = build;
  const source = args.nixpkgs !== undefined && isNixpkgsUrl(args.nixpkgs) ? args.nixpkgs : undefined;
  const own = providerRegion(parent);
  return publishRegions(args).map(({ region, suffix }) => {
    const former = formerSuffix(region, suffix, own);
    const family = imageFamily(name, args, region, suffix, former, parent);
    const file = ensureStoreFile(name, suffix, former, args, build, parent);
    const properties = pulumi.all([info, build.builtAt, family.id]).apply(([i, builtAt, familyId]) =>
      imageProperties(
        i,
        {
          builtAt,
          family: familyId,
          source: source ?? i.channel,
          replaceFrequency: args.replaceFrequency,
          keepGenerations: args.keepGenerations,
        },
        args.properties,
      ),
    );
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
        minRamMb: args.minRamMb,
        // Nobody sees a generation before its checks passed: stages/promote/ applies visibility and unhides it.
        visibility: "private",
        hidden: true,
        tags: args.tags.length > 0 ? args.tags : undefined,
        // At creation the image carries them all, the family ID first of all (what proves it is ours).
        properties,
      },
      {
        parent,
        aliases: regionAliases(former, (s) => `${name}-image${s}`),
        dependsOn: [build.command, file],
        // Older generations stay for servers that boot by UUID; the rotation hides and deletes them.
        retainOnDelete: true,
        // The bridged provider asks to delete first whenever `name` is set explicitly (to avoid a name clash).
        // Names here are content-addressed and never clash, and servers may still boot from the old image
        // while the new one uploads: create the new one first, as the design promises.
        deleteBeforeReplace: false,
        customTimeouts: { create: `${args.uploadTimeoutMinutes}m` },
        // imageCachePath: the provider defaults this download cache to $HOME, which differs between machines;
        // it is unused for local files. The promote step owns visibility, hidden, the properties and min_ram
        // (the provider would drop os_* changes), and sets them in place: none of them uploads again.
        ignoreChanges: ["imageCachePath", "visibility", "hidden", "properties", "minRamMb"],
      },
    );
    return { region, suffix, formerSuffix: former, family, image, properties };
  });
}
