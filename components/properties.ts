import type { ImageInfo } from "./imageInfo.ts";

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

/** The standard Glance properties of a NixOS image, with the user's merged over them. */
export function imageProperties(info: ImageInfo, extra: Record<string, string>): Record<string, string> {
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
  };
  if (info.qemuGuestAgent) standard.hw_qemu_guest_agent = "yes";
  return { ...standard, ...extra };
}

/** Glance's min_disk is in GB; a raw image needs at least its own size (as built: image-info.json's). */
export function minDiskGb(diskSizeMiB: number): number {
  return Math.ceil(diskSizeMiB / 1024);
}
