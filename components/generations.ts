import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "./args.ts";
import type { BuiltImage } from "./build.ts";
import type { RegionImage } from "./publish.ts";
import { shellQuote } from "./shell.ts";
import { projectPath } from "./source.ts";
import { regionSettings, TESTBOOT_BIN } from "./verify.ts";
import type { GenerationsRequest } from "../testboot/request.ts";

/**
 * Rotation of the image family in one region, after the new generation is promoted and shared: the newest is the
 * one visible, the next keepGenerations - 1 are hidden, older ones are deleted unless a server uses them or they
 * are protected (reported, and tried again at the next rotation); members no longer listed are removed from
 * every generation. It runs when the image, keepGenerations or members change (so `pulumi preview` shows it),
 * never as a replacement; `pulumi destroy` deletes the family's generations that no server uses.
 */
export function rotateGenerations(
  name: string,
  args: ResolvedArgs,
  build: BuiltImage,
  published: RegionImage,
  after: pulumi.Resource[],
  parent: pulumi.Resource,
): local.Command {
  const { image, region, suffix, family } = published;
  const request = image.id.apply((imageId) => {
    const doc: GenerationsRequest = {
      family,
      imageId,
      keep: args.keepGenerations,
      members: args.members,
      openstack: regionSettings(region),
    };
    return JSON.stringify(doc);
  });
  const bin = `exec node ${shellQuote(projectPath(TESTBOOT_BIN))}`;
  return new local.Command(
    `${name}-generations${suffix}`,
    {
      create: `${bin} rotate`,
      delete: `${bin} remove-family`,
      stdin: pulumi.secret(request),
      // Known in every preview (the image ID is not, in one that rebuilds): what makes the rotation show.
      environment: {
        NCI_BUILD: build.identity,
        NCI_KEEP_GENERATIONS: String(args.keepGenerations),
        NCI_MEMBERS: args.members.join(","),
      },
      logging: "stderr",
      addPreviousOutputInEnv: false,
    },
    { parent, dependsOn: [image, ...after] },
  );
}
