// The marks this project's images carry in Glance, and the form of the family ID: what the stages' programs
// read to tell which images are a family's and what happened to them. The component sets the family property,
// the programs the others.

/** The family an image belongs to: the component sets it at upload, nothing else may. */
export const FAMILY_PROPERTY = "nixos_cloud_image_family";
/** When the image became a generation (promoted): only promoted images count as generations. */
export const PROMOTED_PROPERTY = "nixos_cloud_image_promoted";
/** The test boot's verdict on these bytes: a later build of the same store path does not boot them again. */
export const VERIFIED_PROPERTY = "nixos_cloud_image_verified";
/** Set once an image was ever more than private: other projects may boot it. */
export const EXPOSED_PROPERTY = "nixos_cloud_image_exposed";
/** Left by a family's end on what it had to keep: no family adopts, hides or deletes it afterwards. */
export const ORPHANED_PROPERTY = "nixos_cloud_image_orphaned";

/** What every family ID starts with (earlier versions named families "project/stack/component"). */
export const FAMILY_ID_PREFIX = "nci-";
/** A family ID as the family Command makes them: anything else (a name-derived one several stacks share) is refused. */
export const FAMILY_ID = new RegExp(
  `^${FAMILY_ID_PREFIX}[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`,
);
