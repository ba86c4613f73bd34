import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { Visibility } from "./args.ts";
import type { BuiltImage } from "./build.ts";
import { programCommand, regionSettings } from "./programs.ts";
import type { RegionImage } from "./publish.ts";
import type { PromoteRequest } from "../testboot/request.ts";

/**
 * Makes a new generation usable once its checks passed: it compares Glance's SHA-512 of the upload
 * (os_hash_value) with the one recorded at build time (no local file is read), then applies `visibility`,
 * unhides the image and marks it promoted (only promoted images count as generations). With `verify`, it runs
 * after the test boot, which fails when a check does. It runs for each new image and when the visibility
 * setting changes (also back to private); the rotation applies visibility to the older kept generations.
 */
export function promoteImage(
  name: string,
  visibility: Visibility,
  build: BuiltImage,
  published: RegionImage,
  after: pulumi.Resource[],
  parent: pulumi.Resource,
): local.Command {
  const { image, region, suffix, family } = published;
  const request = pulumi.all([image.id, family.id, build.sha512]).apply(([imageId, familyId, sha512]) => {
    const doc: PromoteRequest = {
      imageId,
      family: familyId,
      sha512,
      visibility,
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
      addPreviousOutputInEnv: false,
    },
    { parent, dependsOn: [image, ...after] },
  );
}
