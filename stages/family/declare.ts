import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "../../components/settings.ts";
import { programCommand, regionSettings } from "../program/command.ts";
import { regionAliases } from "../../components/regions.ts";
import type { FamilyRequest } from "../program/request.ts";

export interface ImageFamily {
  command: local.Command;
  /** The family ID every image of the family carries (nixos_cloud_image_family): random, kept in the state. */
  id: pulumi.Output<string>;
}

/**
 * An image family in one region: its ID is made once (nothing about the stack's names derives it, so two stacks
 * named alike never share a family) and kept through every settings change. Its deletion is the family's end:
 * `pulumi destroy`, or the region removed from `regions`; it deletes the family's images that may go and marks
 * the rest. No other resource deletes images, so replacing or renaming any stage never does.
 */
export function imageFamily(
  name: string,
  args: ResolvedArgs,
  region: string | undefined,
  suffix: string,
  formerSuffix: pulumi.Output<string>,
  parent: pulumi.Resource,
): ImageFamily {
  const request: FamilyRequest = {
    uploadTimeoutMinutes: args.uploadTimeoutMinutes,
    openstack: regionSettings(region),
  };
  const command = new local.Command(
    `${name}-family${suffix}`,
    {
      create: programCommand("new-family"),
      // Prints the ID it is given back (PULUMI_COMMAND_STDOUT), or fails: a new password keeps the family.
      update: programCommand("keep-family"),
      delete: programCommand("remove-family"),
      stdin: pulumi.secret(JSON.stringify(request)),
      logging: "stderr",
      addPreviousOutputInEnv: true,
    },
    // Renamed, never replaced, when `regions` starts or stops naming the provider's own region.
    { parent, aliases: regionAliases(formerSuffix, (s) => `${name}-family${s}`) },
  );
  // The command provider makes every output secret when an input is (stdin is); the ID is no secret.
  return { command, id: pulumi.unsecret(command.stdout).apply((s) => s.trim()) };
}
