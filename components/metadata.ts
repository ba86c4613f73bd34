import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "./args.ts";
import { programCommand, regionSettings } from "./programs.ts";
import type { RegionImage } from "./publish.ts";
import type { MetadataRequest } from "../testboot/request.ts";

/**
 * The image's properties and min_ram, set in place through the CLI whenever they change (build date, SCS
 * metadata, keepGenerations, replaceFrequency, the user's properties): bytes that did not change are never
 * uploaded or booted again for them. Properties the user dropped are removed.
 */
export function imageMetadata(
  name: string,
  args: ResolvedArgs,
  published: RegionImage,
  parent: pulumi.Resource,
): local.Command {
  const { image, region, suffix, family, properties } = published;
  const request = pulumi.all([image.id, family.id, properties]).apply(([imageId, familyId, props]) => {
    const doc: MetadataRequest = {
      imageId,
      family: familyId,
      properties: props,
      minRamMb: args.minRamMb,
      openstack: regionSettings(region),
    };
    return JSON.stringify(doc);
  });
  return new local.Command(
    `${name}-metadata${suffix}`,
    {
      create: programCommand("metadata"),
      stdin: pulumi.secret(request),
      logging: "stderr",
      // The properties it set last time, to remove those no longer set.
      addPreviousOutputInEnv: true,
    },
    { parent, dependsOn: [image] },
  );
}
