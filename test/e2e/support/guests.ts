// The bootable test guests of scripts/guest (Debian 12 + OpenSSH + cloud-init, no nixpkgs): built once per
// change of the builder into ${NCI_CACHE:-~/.cache/nixos-cloud-image}/guests/<key>, then reused.
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

const BUILD = fileURLToPath(new URL("../../../scripts/guest/build.sh", import.meta.url));

/**
 * `good` is configured like nix/configuration.nix (key for `nixos` through cloud-init, passwordless sudo,
 * root refused, keys only); each other one is wrong in exactly one way. `uefi` is `good` on a GPT disk that
 * boots with UEFI only (systemd-boot); `bios-as-uefi` is `good`'s BIOS-only disk recorded as a UEFI image.
 */
export type GuestVariant = "good" | "root-allowed" | "sudo-password" | "no-sshd" | "uefi" | "bios-as-uefi";
export const GUEST_VARIANTS: readonly GuestVariant[] = [
  "good",
  "root-allowed",
  "sudo-password",
  "no-sshd",
  "uefi",
  "bios-as-uefi",
];

/** What scripts/guest/build.sh records next to each variant (guest.json). */
export interface GuestInfo {
  variant: GuestVariant;
  /** The builder's content key. */
  key: string;
  /** The whole-disk raw image in the cache. */
  disk: string;
  /** MiB: the smallest `diskSize` the guest's source accepts. */
  diskSize: number;
  kernelVersion: string;
  debianVersion: string;
  bootMode: "bios" | "uefi";
}

let cache: Promise<string> | undefined;

/** The guest cache dir, building the guests first if this builder's version is not cached yet. */
export function guestCache(): Promise<string> {
  cache ??= execa(BUILD, [], { stderr: "inherit" }).then(({ stdout }) =>
    String(stdout).trim().split("\n").pop()!,
  );
  return cache;
}

/**
 * A directory usable as the stack's `source` setting: a Nix expression taking the component's arguments
 * whose nix-build output is the guest's raw disk plus nix-support/image-info.json (the contract of
 * test/fixtures/image). Its `diskSize` must be at least guestInfo(variant).diskSize.
 */
export async function guestSource(variant: GuestVariant): Promise<string> {
  if (!GUEST_VARIANTS.includes(variant))
    throw new Error(`guest variant must be one of ${GUEST_VARIANTS.join(", ")}; received ${variant}`);
  return path.join(await guestCache(), variant);
}

export async function guestInfo(variant: GuestVariant): Promise<GuestInfo> {
  return JSON.parse(readFileSync(path.join(await guestSource(variant), "guest.json"), "utf8")) as GuestInfo;
}
