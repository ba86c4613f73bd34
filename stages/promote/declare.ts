import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "../../components/settings.ts";
import type { BuiltImage } from "../../components/build.ts";
import { programCommand, regionSettings } from "../program/command.ts";
import { regionAliases } from "../../components/regions.ts";
import type { RegionImage } from "../../components/publish.ts";
import type { PromoteRequest } from "../program/request.ts";

/**
 * Makes a new generation usable once its checks passed: it compares Glance's SHA-512 of the upload
 * (os_hash_value) with the one recorded at build time (no local file is read), then applies `visibility`,
 * the properties and min_ram, unhides the image and marks it promoted (only promoted images count as
 * generations). With `verify`, it runs after the test boot, which fails when a check does. It runs for each
 * new image and build, and whenever visibility, a property or min_ram changes (build date, SCS metadata,
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
  const { image, region, suffix, formerSuffix, family, properties } = published;
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
      // Never replaced, so every run has the properties the last one set (PULUMI_COMMAND_STDOUT) and removes
      // those no longer set, also when a rebuild of the same bytes comes with a dropped property. A new image
      // changes stdin; the build identity, known in every preview (the image ID is not, in one that
      // rebuilds), makes the run show there.
      environment: { NCI_BUILD: build.identity },
      logging: "stderr",
      addPreviousOutputInEnv: true,
    },
    {
      parent,
      aliases: regionAliases(formerSuffix, (s) => `${name}-promote${s}`),
      dependsOn: [image, ...after],
    },
  );
}
