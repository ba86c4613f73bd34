import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { Visibility } from "./args.ts";
import type { BuiltImage } from "./build.ts";
import type { RegionImage } from "./publish.ts";
import { shellQuote } from "./shell.ts";
import { projectPath } from "./source.ts";
import { regionSettings, TESTBOOT_BIN } from "./verify.ts";
import type { PromoteRequest } from "../testboot/request.ts";

/**
 * Makes a new generation usable once its checks passed: it compares Glance's SHA-512 of the upload
 * (os_hash_value) with the built file's, then applies `visibility` and unhides the image. With `verify`, it
 * runs after the test boot (it depends on the verify Command, which fails when a check does). It runs for
 * each new image and when the visibility setting changes (also back to private).
 */
export function promoteImage(
  name: string,
  visibility: Visibility,
  build: BuiltImage,
  published: RegionImage,
  verified: local.Command | undefined,
  parent: pulumi.Resource,
): local.Command {
  const { image, region, suffix } = published;
  const request = pulumi.all([image.id, build.info]).apply(([imageId, info]) => {
    const doc: PromoteRequest = { imageId, file: info.file, visibility, openstack: regionSettings(region) };
    return JSON.stringify(doc);
  });
  return new local.Command(
    `${name}-promote${suffix}`,
    {
      create: `exec node ${shellQuote(projectPath(TESTBOOT_BIN))} promote`,
      stdin: pulumi.secret(request),
      // The image ID is unknown in a preview that rebuilds; the build identity shows the run ahead.
      triggers: [build.identity, image.id],
      logging: "stderr",
      addPreviousOutputInEnv: false,
    },
    { parent, dependsOn: verified ? [image, verified] : [image] },
  );
}
