import type { ReplaceFrequency } from "./args.ts";
import { storePathOf } from "./imageInfo.ts";
import type { ImageInfo } from "./imageInfo.ts";
import {
  EXPOSED_PROPERTY,
  FAMILY_PROPERTY,
  ORPHANED_PROPERTY,
  PROMOTED_PROPERTY,
  VERIFIED_PROPERTY,
} from "../stages/program/marks.ts";

/** Every property the component sets itself; `properties` may not set them (settings.ts). */
export const STANDARD_PROPERTIES = [
  "os_distro",
  "os_version",
  "os_admin_user",
  "os_type",
  "os_purpose",
  "architecture",
  "hw_disk_bus",
  "hw_vif_model",
  "hw_firmware_type",
  "hw_machine_type",
  "hw_qemu_guest_agent",
  "image_original_user",
  "image_build_date",
  "image_source",
  "image_description",
  "replace_frequency",
  "uuid_validity",
  "provided_until",
  "patchlevel",
  "nix_store_path",
  "nixpkgs_revision",
  FAMILY_PROPERTY,
  // Set by the stages, never by the component's properties: they prove what happened to the image.
  PROMOTED_PROPERTY,
  VERIFIED_PROPERTY,
  EXPOSED_PROPERTY,
  ORPHANED_PROPERTY,
];

/** What the standard properties describe besides the build: where it comes from and how it is kept. */
export interface Provenance {
  /** When the store path was first built, "YYYY-MM-DD hh:mm" (UTC). */
  builtAt: string;
  /** The family ID (random, kept in the stack's state). */
  family: string;
  /** Where the nixpkgs came from: its tarball URL, or the channel's. */
  source: string;
  replaceFrequency: ReplaceFrequency;
  keepGenerations: number;
}

/** Nix system doubles to the architecture names Glance and Nova use (libosinfo / os-traits). */
const ARCHITECTURES: Record<string, string> = {
  "x86_64-linux": "x86_64",
  "aarch64-linux": "aarch64",
  "i686-linux": "i686",
  "riscv64-linux": "riscv64",
  "powerpc64le-linux": "ppc64le",
};

/**
 * Glance's boot firmware properties for an image, from image-info.json. UEFI on x86_64 asks for the q35
 * machine type: Nova's default i440fx ("pc") machine cannot load every OVMF build (secure-boot builds
 * need q35's SMM), and q35 runs BIOS images too. On aarch64 the only machine is "virt", UEFI its only
 * firmware. A hybrid image boots with either firmware: the cloud's default is left to choose.
 */
function firmwareProperties(info: ImageInfo): Record<string, string> {
  if (info.bootMode === "hybrid") return {};
  if (info.bootMode === "bios") return { hw_firmware_type: "bios" };
  return info.system === "x86_64-linux"
    ? { hw_firmware_type: "uefi", hw_machine_type: "q35" }
    : { hw_firmware_type: "uefi" };
}

/**
 * The SCS image metadata (scs-0102) and the build's provenance. uuid_validity "last-N" says what rotation does:
 * an image ID stays valid while its generation is among the newest N. provided_until "none": the rotation
 * deletes a generation keepGenerations builds later, at no date anyone can promise. min_ram, also mandatory
 * there, is an image attribute (publish.ts).
 */
function scsProperties(info: ImageInfo, p: Provenance): Record<string, string> {
  const storePath = storePathOf(info.file);
  // config.system.nixos.version ends in the nixpkgs revision ("25.05.20250612.abcdef0") when it is known.
  const revision = /\.([0-9a-f]{7,40})$/.exec(info.nixosVersion)?.[1];
  return {
    image_original_user: "nixos",
    image_build_date: p.builtAt,
    image_source: p.source,
    image_description: `NixOS ${info.nixosVersion} (${info.system}, ${info.bootMode}), built with Nix from ${storePath}`,
    replace_frequency: p.replaceFrequency,
    uuid_validity: `last-${p.keepGenerations}`,
    provided_until: "none",
    patchlevel: info.nixosVersion,
    os_purpose: "generic",
    nix_store_path: storePath,
    ...(revision === undefined ? {} : { nixpkgs_revision: revision }),
    [FAMILY_PROPERTY]: p.family,
  };
}

/** The standard Glance properties of a NixOS image, with the user's (which may not collide with them) added. */
export function imageProperties(
  info: ImageInfo,
  provenance: Provenance,
  extra: Record<string, string>,
): Record<string, string> {
  const standard: Record<string, string> = {
    os_distro: "nixos",
    os_version: info.nixosRelease,
    os_admin_user: "nixos",
    os_type: "linux",
    architecture: ARCHITECTURES[info.system] ?? info.system.split("-")[0],
    // The image boots from any of virtio-blk, virtio-scsi and NVMe (nix/boot.nix); virtio-blk is the
    // bus every KVM cloud offers.
    hw_disk_bus: "virtio",
    hw_vif_model: "virtio",
    ...firmwareProperties(info),
    ...scsProperties(info, provenance),
  };
  if (info.qemuGuestAgent) standard.hw_qemu_guest_agent = "yes";
  return { ...standard, ...extra };
}

/** Glance's min_disk is in GB; a raw image needs at least its own size (as built: image-info.json's). */
export function minDiskGb(diskSizeMiB: number): number {
  return Math.ceil(diskSizeMiB / 1024);
}
