import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import type { ResolvedArgs } from "./args.ts";
import type { BuiltImage } from "./build.ts";
import { storeHash } from "./imageInfo.ts";
import { imageProperties, minDiskGb } from "./properties.ts";

/**
 * Uploads the built file to Glance. A new build has a new store path, and localFilePath forces a new
 * image, so every build is a new Glance image, created before the old one is deleted (or retained).
 */
export function publishImage(name: string, args: ResolvedArgs, build: BuiltImage, parent: pulumi.Resource) {
  const { info } = build;
  return new openstack.images.Image(
    `${name}-image`,
    {
      name: args.imageName ?? info.apply((i) => `nixos-${i.nixosVersion}-${storeHash(i)}`),
      localFilePath: info.file,
      diskFormat: "raw",
      containerFormat: "bare",
      verifyChecksum: true,
      // From the size built, which with diskSize "auto" only the build knows.
      minDiskGb: info.apply((i) => minDiskGb(i.diskSize)),
      // With verify, a new image starts private and is promoted only once its check passed (promote.ts).
      visibility: args.verify ? "private" : args.visibility,
      tags: args.tags.length > 0 ? args.tags : undefined,
      properties: info.apply((i) => imageProperties(i, args.properties)),
    },
    {
      parent,
      dependsOn: [build.command],
      retainOnDelete: args.retainOldImages,
      // The bridged provider asks to delete first whenever `name` is set explicitly (to avoid a name clash).
      // Names here are content-addressed and never clash, and servers may still boot from the old image
      // while the new one uploads: create the new one first, as the design promises.
      deleteBeforeReplace: false,
      customTimeouts: { create: `${args.uploadTimeoutMinutes}m` },
      // The provider defaults this download cache to $HOME, which differs between machines; it is unused
      // for local files, and must not show as a change when someone else runs the stack. With verify, the
      // promote step owns the visibility.
      ignoreChanges: args.verify ? ["imageCachePath", "visibility"] : ["imageCachePath"],
    },
  );
}
