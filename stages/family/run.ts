// Which images are ours: an image belongs to a family only when the credentials' own project owns it and it
// carries the family's ID (random, made once by the component and kept in the stack's state). Whatever else the
// credentials can see (an admin sees every project's images) is never hidden, unshared or deleted.
import { randomUUID } from "node:crypto";
import { imageField } from "../program/openstackCli.ts";
import type { Cli } from "../program/openstackCli.ts";
import {
  EXPOSED_PROPERTY,
  FAMILY_ID_PREFIX,
  FAMILY_PROPERTY,
  ORPHANED_PROPERTY,
  PROMOTED_PROPERTY,
  VERIFIED_PROPERTY,
} from "../program/marks.ts";

/** A new family ID: nothing about the stack's names can derive it, so two stacks named alike never share one. */
export function newFamilyId(): string {
  return `${FAMILY_ID_PREFIX}${randomUUID()}`;
}

export interface FamilyImage {
  id: string;
  name: string;
  createdAt: string;
  /** When it was promoted (a generation), or undefined for an upload that never passed. */
  promotedAt: string | undefined;
  verified: string | undefined;
  hidden: boolean;
  protected: boolean;
  visibility: string;
  /** Whether it was ever more than private (other projects may boot it). */
  exposed: boolean;
  status: string;
}

/**
 * Whether a family property (or its absence) is from before family IDs: an earlier version's name-derived
 * family, which the stack's own image (its ID from the state) carries until it joins the family.
 */
export function isEarlierFamily(carried: unknown): boolean {
  return typeof carried !== "string" || !carried.startsWith(FAMILY_ID_PREFIX);
}

/** Whether the CLI's error says the image does not exist (any more). */
function isGone(error: unknown): boolean {
  return /No Image found|Could not find|404/i.test(String(error));
}

/** The project the credentials act in: the owner of everything this project may touch. */
export async function credentialsProject(cli: Cli): Promise<string> {
  const token = await cli.json<{ project_id?: string }>(["token", "issue"]);
  if (!token?.project_id) {
    throw new Error(
      "the credentials are not scoped to a project (openstack token issue shows no project_id)",
    );
  }
  return token.project_id;
}

const str = (image: Record<string, unknown>, name: string) => {
  const value = imageField(image, name);
  return typeof value === "string" && value !== "" ? value : undefined;
};

/** An image as `openstack image show` gives it, when it is the family's; undefined for anyone else's. */
export function asFamilyImage(
  image: Record<string, unknown>,
  family: string,
  project: string,
): FamilyImage | undefined {
  if (image.owner !== project || str(image, FAMILY_PROPERTY) !== family) return undefined;
  if (str(image, ORPHANED_PROPERTY) !== undefined) return undefined;
  const visibility = String(image.visibility);
  return {
    id: String(image.id),
    name: String(image.name),
    createdAt: String(image.created_at),
    promotedAt: str(image, PROMOTED_PROPERTY),
    verified: str(image, VERIFIED_PROPERTY),
    hidden: imageField(image, "os_hidden") === true,
    protected: image.protected === true,
    visibility,
    exposed: visibility !== "private" || str(image, EXPOSED_PROPERTY) !== undefined,
    status: String(image.status),
  };
}

/** The family's images (visible and hidden) that the credentials' project owns, newest first. */
export async function familyImages(cli: Cli, family: string, project: string): Promise<FamilyImage[]> {
  const filter = ["--property", `${FAMILY_PROPERTY}=${family}`];
  const [visible, hidden] = await Promise.all([
    cli.json<{ ID: string }[]>(["image", "list", ...filter]),
    cli.json<{ ID: string }[]>(["image", "list", "--hidden", ...filter]),
  ]);
  const ids = [...new Set([...visible, ...hidden].map((i) => i.ID))];
  // An image deleted between the list and its show (another run, an admin) is simply not there any more.
  const shown = await Promise.all(
    ids.map((id) =>
      cli.json<Record<string, unknown>>(["image", "show", id]).catch((error: unknown) => {
        if (isGone(error)) return undefined;
        throw error;
      }),
    ),
  );
  return shown
    .filter((image) => image !== undefined)
    .map((image) => asFamilyImage(image, family, project))
    .filter((image) => image !== undefined)
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

/**
 * One image, when it is the family's (owner and ID checked); undefined when it is gone or not ours. With
 * `fromState` (its ID comes from the stack's state), an image the project owns that carries no family ID or an
 * earlier version's name-derived family counts too: it joins the family at promotion.
 */
export async function familyImage(
  cli: Cli,
  imageId: string,
  family: string,
  project: string,
  { fromState = false } = {},
): Promise<FamilyImage | undefined> {
  let image: Record<string, unknown>;
  try {
    image = await cli.json(["image", "show", imageId]);
  } catch (error) {
    if (isGone(error)) return undefined;
    throw error;
  }
  const carried = str(image, FAMILY_PROPERTY);
  const earlier = fromState && isEarlierFamily(carried);
  return asFamilyImage(earlier ? { ...image, [FAMILY_PROPERTY]: family } : image, family, project);
}
