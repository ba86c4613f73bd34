import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import type { local } from "@pulumi/command";
import type { ResolvedArgs } from "./settings.ts";
import { regionAliases } from "./regions.ts";
import type { RegionImage } from "./publish.ts";

/**
 * Shares a promoted generation with each member project (Glance members), and accepts the share on the
 * member's side where a cloud with that project's credentials is configured (a provider of its own). Nothing is
 * shared before `promoted` ran, so with `verify` only a verified image. The shares of older generations stay
 * (retainOnDelete): servers of a member keep booting them by UUID until rotation deletes them; a member
 * removed from the list is removed from every generation by the generations step.
 */
export function shareImage(
  name: string,
  args: ResolvedArgs,
  published: RegionImage,
  promoted: local.Command,
  providers: Map<string, openstack.Provider>,
  parent: pulumi.Resource,
): pulumi.Resource[] {
  const { image, region, suffix, formerSuffix } = published;
  return args.members.flatMap((member) => {
    const access = new openstack.images.ImageAccess(
      `${name}-member${suffix}-${member}`,
      { imageId: image.id, memberId: member, region },
      {
        parent,
        aliases: regionAliases(formerSuffix, (s) => `${name}-member${s}-${member}`),
        dependsOn: [promoted],
        retainOnDelete: true,
        deleteBeforeReplace: false,
      },
    );
    const cloud = args.memberClouds[member];
    if (cloud === undefined) return [access];
    const accept = new openstack.images.ImageAccessAccept(
      `${name}-accept${suffix}-${member}`,
      { imageId: image.id, memberId: member, status: "accepted", region },
      {
        parent,
        aliases: regionAliases(formerSuffix, (s) => `${name}-accept${s}-${member}`),
        provider: memberProvider(name, cloud, providers, parent),
        dependsOn: [access],
        retainOnDelete: true,
      },
    );
    return [access, accept];
  });
}

/** One provider per member cloud (clouds.yaml entry), shared by its regions. */
function memberProvider(
  name: string,
  cloud: string,
  providers: Map<string, openstack.Provider>,
  parent: pulumi.Resource,
): openstack.Provider {
  let provider = providers.get(cloud);
  if (provider === undefined) {
    provider = new openstack.Provider(`${name}-member-cloud-${cloud}`, { cloud }, { parent });
    providers.set(cloud, provider);
  }
  return provider;
}
