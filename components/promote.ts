import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "./args.ts";
import type { BuiltImage } from "./build.ts";
import { programCommand, regionSettings } from "./programs.ts";
import type { RegionImage } from "./publish.ts";
import type { PromoteRequest } from "../testboot/request.ts";

/**
 * Makes a new generation usable once its checks passed: it compares Glance's SHA-512 of the upload
 * (os_hash_value) with the one recorded at build time (no local file is read), then applies `visibility`,
 * the properties and min_ram, unhides the image and marks it promoted (only promoted images count as
 * generations). With `verify`, it runs after the test boot, which fails when a check does. It runs for each
 * new image, and in place whenever visibility, a property or min_ram changes (build date, SCS metadata,
 * keepGenerations, replaceFrequency, the user's properties): the same bytes are never uploaded or booted again
 * for them. The rotation applies visibility to the older kept generations.
 */
export function promoteImage(
  name: string,
  args: ResolvedArgs,
  build: BuiltImage,
  published: RegionImage,
  after: pulumi.Resource[],
  parent: pulumi.Resource,
): local.Command {
  const { image, region, suffix, family, properties } = published;
  const request = pulumi
    .all([image.id, family.id, build.sha512, properties])
    .apply(([imageId, familyId, sha512, props]) => {
      const doc: PromoteRequest = {
        imageId,
        family: familyId,
        sha512,
        visibility: args.visibility,
        properties: props,
        minRamMb: args.minRamMb,
        openstack: regionSettings(region),
      };
      return JSON.stringify(doc);
    });
  return new local.Command(
    `${name}-promote${suffix}`,
    {
      create: programCommand("promote"),
      stdin: pulumi.secret(request),
      // The image ID is unknown in a preview that rebuilds; the build identity shows the run ahead.
      triggers: [build.identity, image.id],
      logging: "stderr",
      // The properties it set last time, to remove those no longer set.
      addPreviousOutputInEnv: true,
    },
    { parent, dependsOn: [image, ...after] },
  );
}
