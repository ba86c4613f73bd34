# How the image boots, shipped to /etc/nixos/boot.nix and imported by ./cloud.nix: GRUB for BIOS, for
# UEFI or for both (nixosCloudImage.bootMode, set by the image's image-settings.nix), the serial
# console, and the disk drivers, so the instance boots and `nixos-rebuild switch` keeps working whether
# the cloud attaches the disk as virtio-blk (/dev/vda), virtio-scsi (/dev/sda) or NVMe (/dev/nvme0n1).
#
# The partition layouts are make-disk-image's (nixpkgs nixos/lib/make-disk-image.nix): "legacy" (MBR,
# root on partition 1) for bios, "efi" (GPT, ESP labelled "ESP" on partition 1, root after it) for uefi,
# "hybrid" (GPT with the ESP, a bios_grub partition and root) for hybrid; ./disk-image-args.nix picks it.
{
  config,
  lib,
  pkgs,
  ...
}:
let
  mode = config.nixosCloudImage.bootMode;
  bios = mode != "uefi";
  efi = mode != "bios";
  # GRUB's BIOS device. GRUB must name a disk, and the disk's name depends on the bus the cloud chooses
  # (hw_disk_bus), so it names this link instead, which the unit below points at the disk that holds
  # the root file system on every boot. GRUB is installed there again whenever its package or devices
  # change (nixpkgs nixos/modules/system/boot/loader/grub/install-grub.pl), e.g. by a
  # `nixos-rebuild switch --upgrade`. The link lies in /dev because make-disk-image links a grub device
  # other than /dev/vda to its build VM's /dev/vda (nixos/lib/make-disk-image.nix), and nixos-enter,
  # which installs GRUB at build time, shares only /dev and /sys with the build VM
  # (nixos/modules/installer/tools/nixos-enter.sh).
  bootDisk = "/dev/disk/nixos-cloud-image/boot-disk";
  # The serial console: ttyS0 on x86 (the one Nova's console log records), the PL011 on ARM.
  serial = if pkgs.stdenv.hostPlatform.isAarch64 then "ttyAMA0" else "ttyS0";
in
{
  options.nixosCloudImage.bootMode = lib.mkOption {
    type = lib.types.enum [
      "bios"
      "uefi"
      "hybrid"
    ];
    default = "bios";
    description = "How the image boots: bios (MBR), uefi (GPT with an ESP) or hybrid (both). Fixed by the partition layout the image was built with.";
  };

  config = {
    boot.loader.grub = {
      device = if bios then bootDisk else "nodev";
      efiSupport = efi;
      # A cloud gives each instance fresh firmware variables: install GRUB where UEFI looks without
      # them (\EFI\BOOT\BOOTX64.EFI, BOOTAA64.EFI) rather than registering a boot entry.
      efiInstallAsRemovable = efi;
    };
    boot.loader.efi.canTouchEfiVariables = false;
    boot.loader.timeout = 1;

    fileSystems."/boot" = lib.mkIf efi {
      device = "/dev/disk/by-label/ESP";
      fsType = "vfat";
    };

    # Disk drivers for the initrd, which must find the root file system on any of these buses.
    boot.initrd.availableKernelModules = [
      "virtio_blk"
      "virtio_scsi"
      "sd_mod"
      "nvme"
    ];

    systemd.services.nixos-cloud-image-boot-disk = lib.mkIf bios {
      description = "Link the disk holding the root file system for GRUB";
      wantedBy = [ "multi-user.target" ];
      after = [ "local-fs.target" ];
      path = [ pkgs.util-linux ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
      };
      script = ''
        disk=$(lsblk -ndo PKNAME "$(findmnt -nvo SOURCE /)")
        mkdir -p ${dirOf bootDisk}
        ln -sfn "/dev/$disk" ${bootDisk}
      '';
    };

    # Kernel and login on the serial port (Nova's console log) and on the VGA console; the last
    # console= is /dev/console, where the host key fingerprints are printed (./cloud.nix).
    boot.kernelParams = [
      "console=tty1"
      "console=${serial},115200n8"
    ];
    # GRUB's menu on the serial port too. UEFI firmware mirrors its console to serial itself.
    boot.loader.grub.extraConfig = lib.mkIf bios ''
      serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
      terminal_input console serial
      terminal_output console serial
    '';
  };
}
