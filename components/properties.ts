import type { ImageInfo } from "./imageInfo.ts";

/** Nix system doubles to the architecture names Glance and Nova use (libosinfo / os-traits). */
const ARCHITECTURES: Record<string, string> = {
  "x86_64-linux": "x86_64",
  "aarch64-linux": "aarch64",
  "i686-linux": "i686",
  "riscv64-linux": "riscv64",
  "powerpc64le-linux": "ppc64le",
};

/** The standard Glance properties of a NixOS image, with the user's merged over them. */
export function imageProperties(info: ImageInfo, extra: Record<string, string>): Record<string, string> {
  const standard: Record<string, string> = {
    os_distro: "nixos",
    os_version: info.nixosRelease,
    os_admin_user: "nixos",
    os_type: "linux",
    architecture: ARCHITECTURES[info.system] ?? info.system.split("-")[0],
    // GRUB is installed for /dev/vda: a SCSI bus would name the disk /dev/sda and the boot would fail.
    hw_disk_bus: "virtio",
    hw_vif_model: "virtio",
    hw_firmware_type: info.bootMode,
  };
  if (info.qemuGuestAgent) standard.hw_qemu_guest_agent = "yes";
  return { ...standard, ...extra };
}

/** Glance's min_disk is in GB; a raw image needs at least its own size. */
export function minDiskGb(diskSizeMiB: number): number {
  return Math.ceil(diskSizeMiB / 1024);
}
