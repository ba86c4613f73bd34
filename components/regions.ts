import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import type { ResolvedArgs } from "./settings.ts";

/** The regions to publish to, with their resource name suffixes; none set is the provider's region, unsuffixed. */
export function publishRegions(args: ResolvedArgs): { region: string | undefined; suffix: string }[] {
  if (args.regions.length === 0) return [{ region: undefined, suffix: "" }];
  return args.regions.map((region) => ({ region, suffix: `-${region}` }));
}

/** The region the provider authenticates in (clouds.yaml's region_name, OS_REGION_NAME or `openstack:region`), as it resolves it. */
export function providerRegion(parent: pulumi.Resource): pulumi.Output<string> {
  return openstack.identity.getAuthScopeOutput({ name: "nixos-cloud-image-region" }, { parent }).region;
}

/**
 * The suffix a region's resources had under the other form of `regions`: the provider's own region is one Glance
 * whether `regions` is unset or names it, so going from one form to the other renames its family, image and
 * stages (aliases) rather than ending the family and uploading again. Any other region keeps its own suffix
 * (an alias to itself changes nothing), as does every region when the provider's is unknown.
 */
export function formerSuffix(
  region: string | undefined,
  suffix: string,
  own: pulumi.Output<string>,
): pulumi.Output<string> {
  return own.apply((ownRegion) => {
    if (!ownRegion) return suffix;
    if (region === undefined) return `-${ownRegion}`;
    return region === ownRegion ? "" : suffix;
  });
}

/** The alias of one of a region's resources, named `nameWith(suffix)` (see formerSuffix). */
export function regionAliases(
  formerSuffix: pulumi.Output<string>,
  nameWith: (suffix: string) => string,
): pulumi.Alias[] {
  return [{ name: formerSuffix.apply(nameWith) }];
}
