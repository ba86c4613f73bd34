import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "../../components/settings.ts";
import type { BuiltImage } from "../../components/build.ts";
import { programCommand, regionSettings } from "../program/command.ts";
import { regionAliases } from "../../components/regions.ts";
import type { RegionImage } from "../../components/publish.ts";
import type { GenerationsReport } from "./run.ts";
import type { GenerationsRequest } from "../program/request.ts";

/** What the next new generation will do in a region: the image IDs it hides and deletes (unless they must stay). */
export type RotationPlan = GenerationsReport["next"];

/**
 * Rotation of the image family in one region, after the new generation is promoted and shared: the newest
 * promoted generation is the one visible, the next keepGenerations - 1 are hidden, older ones are deleted
 * unless they must stay (run.ts beside this file says when); visibility and members reach every kept one.
 * It runs when the build, keepGenerations, visibility or members change (so `pulumi preview` shows it). It
 * has no delete: only the family's end deletes (stages/family/), so replacing or renaming this Command never does.
 */
export function rotateGenerations(
  name: string,
  args: ResolvedArgs,
  build: BuiltImage,
  published: RegionImage,
  after: pulumi.Resource[],
  parent: pulumi.Resource,
): { command: local.Command; plan: pulumi.Output<RotationPlan> } {
  const { image, region, suffix, formerSuffix, family } = published;
  const request = pulumi.all([image.id, family.id]).apply(([imageId, familyId]) => {
    const doc: GenerationsRequest = {
      family: familyId,
      imageId,
      keep: args.keepGenerations,
      visibility: args.visibility,
      members: args.members,
      uploadTimeoutMinutes: args.uploadTimeoutMinutes,
      openstack: regionSettings(region),
    };
    return JSON.stringify(doc);
  });
  const command = new local.Command(
    `${name}-generations${suffix}`,
    {
      create: programCommand("rotate"),
      stdin: pulumi.secret(request),
      // Known in every preview (the image ID is not, in one that rebuilds): what makes the rotation show.
      environment: {
        NCI_BUILD: build.identity,
        NCI_KEEP_GENERATIONS: String(args.keepGenerations),
        NCI_VISIBILITY: args.visibility,
        NCI_MEMBERS: args.members.join(","),
      },
      logging: "stderr",
      addPreviousOutputInEnv: false,
    },
    {
      parent,
      aliases: regionAliases(formerSuffix, (s) => `${name}-generations${s}`),
      dependsOn: [image, ...after],
    },
  );
  // The report holds image IDs only; the provider made it secret because stdin is.
  const plan = pulumi.unsecret(command.stdout).apply((s) => (JSON.parse(s) as GenerationsReport).next);
  return { command, plan };
}
