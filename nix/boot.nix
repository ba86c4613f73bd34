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
  aarch64 = pkgs.stdenv.hostPlatform.isAarch64;
  # The serial console: ttyS0 on x86 (the one Nova's console log records), the PL011 on ARM.
  serial = if aarch64 then "ttyAMA0" else "ttyS0";
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
      # The ESP is /boot (make-disk-image formats it and mounts it there to install GRUB, so it
      # cannot be moved to /boot/efi), and with /boot on another file system than the store GRUB's
      # installer copies the kernel and initrd of every configuration the menu offers onto it,
      # new ones before it removes old ones (nixpkgs nixos/modules/system/boot/loader/grub/
      # install-grub.pl). The menu offers 100 by default: with kernelLatest each upgrade brings a
      # new kernel, and the ESP (512 MiB, ./disk-image-args.nix) fills until a switch fails. A
      # configuration costs a few tens of MiB on x86_64 and several times that on aarch64, whose
      # kernel is an uncompressed Image: this many, plus the one being added, fit. Older
      # generations stay in the system profile, just not in the menu.
      configurationLimit = lib.mkIf efi (lib.mkDefault (if aarch64 then 4 else 8));
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
    # GRUB's menu on the serial port as well as the screen, in every boot mode. On x86_64 GRUB drives
    # ttyS0 (its com0) itself, under BIOS and under UEFI alike. On aarch64 it has no com0 (its 8250
    # driver is x86's), so the menu stays on the UEFI console, which reaches the serial port only if
    # the firmware sends it there. Either way not GRUB's graphical terminal, which the generated
    # grub.cfg switches to when it can load a font, before this (install-grub.pl).
    boot.loader.grub.extraConfig =
      if aarch64 then
        ''
          terminal_input console
          terminal_output console
        ''
      else
        ''
          serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
          terminal_input console serial
          terminal_output console serial
        '';
  };
}
