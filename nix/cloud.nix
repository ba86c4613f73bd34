# The OpenStack platform, shipped to /etc/nixos/cloud.nix and imported by ./configuration.nix:
# BIOS boot from a virtio disk, a root file system that grows to the flavor's disk, a serial console,
# the QEMU guest agent, cloud-init as the one metadata agent, the kernel choice and the channel.
#
# Why not nixpkgs' virtualisation/openstack-config.nix: its EC2-style agents (openstack-init,
# apply-ec2-data, amazon-init) put the instance key on root only, read no config drive, and
# amazon-init runs `nixos-rebuild switch` with any user-data that is not a shell script (a
# `#cloud-config` breaks it); it also sets PermitRootLogin without mkDefault. Rather than import it and
# switch those off one by one, this module takes the parts wanted (qemu-guest profile, disk, GRUB,
# console) and uses cloud-init, which reads both the metadata service and the config drive and puts
# the key on the `nixos` user. An assertion keeps an imported openstack-config.nix from adding a
# second agent.
#
# Option names hold from NixOS 24.11 through current unstable.
{
  config,
  lib,
  pkgs,
  modulesPath,
  ...
}:
let
  cfg = config.nixosCloudImage;
  # The agents of openstack-config.nix, amazon-image.nix and ec2-data.nix.
  otherAgents = [
    "openstack-init"
    "fetch-ec2-metadata"
    "apply-ec2-data"
    "amazon-init"
  ];
in
{
  imports = [ (modulesPath + "/profiles/qemu-guest.nix") ];

  options.nixosCloudImage = {
    kernelLatest = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Boot pkgs.linuxPackages_latest (true) or the release's default pkgs.linuxPackages (false).";
    };
    channel = lib.mkOption {
      type = lib.types.str;
      default = "https://nixos.org/channels/nixos-${config.system.nixos.release}";
      defaultText = lib.literalExpression ''"https://nixos.org/channels/nixos-''${config.system.nixos.release}"'';
      example = "https://nixos.org/channels/nixos-unstable";
      description = "The channel root subscribes to on first boot, as `nixos`, if it has none.";
    };
  };

  config = {
    boot.kernelPackages = if cfg.kernelLatest then pkgs.linuxPackages_latest else pkgs.linuxPackages;

    # Disk: make-disk-image's "legacy" layout (MBR, one ext4 partition labelled "nixos"), grown to the
    # instance's disk in the initrd on every boot. autoResize needs the explicit fsType.
    fileSystems."/" = {
      device = "/dev/disk/by-label/nixos";
      fsType = "ext4";
      autoResize = true;
    };
    boot.growPartition = true;
    # Glance's hw_disk_bus=virtio makes the disk /dev/vda (with scsi it would be /dev/sda).
    boot.loader.grub.device = "/dev/vda";
    boot.loader.timeout = 1;

    # Console: kernel and login on the serial port (Nova's console log) and on the VGA console.
    # The last console= is /dev/console.
    boot.kernelParams = [
      "console=tty1"
      "console=ttyS0,115200n8"
    ];
    boot.loader.grub.extraConfig = ''
      serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
      terminal_input console serial
      terminal_output console serial
    '';

    # Pairs with Glance's hw_qemu_guest_agent=yes; image-info.json reports it.
    services.qemuGuest.enable = true;

    # The one metadata agent. Networking stays NixOS's (DHCP on every interface), so cloud-init writes
    # no network configuration, and the disk is grown by NixOS (above), not by cloud-init.
    services.cloud-init = {
      enable = true;
      network.enable = false;
      settings = {
        datasource_list = [
          "ConfigDrive"
          "OpenStack"
        ];
        # Restates the module's default, which any system_info definition (./configuration.nix sets
        # default_user) replaces as a whole.
        system_info = {
          distro = "nixos";
          network.renderers = [ "networkd" ];
        };
        network.config = "disabled";
        growpart.mode = "off";
        resize_rootfs = false;
        # The host name comes from the cloud (cloud-init's update_hostname, and DHCP).
        preserve_hostname = false;
      };
    };
    networking.hostName = lib.mkDefault "";

    assertions = map (name: {
      assertion = !(config.systemd.services ? ${name}) || !config.systemd.services.${name}.enable;
      message = "The ${name} service is enabled next to cloud-init; an image has exactly one metadata agent. Set systemd.services.${name}.enable = false or do not import the module that adds it (e.g. virtualisation/openstack-config.nix).";
    }) otherAgents;

    # The channel. Bundling nixpkgs in the image (make-disk-image's copyChannel) adds ~600 MB to every
    # image and upload and would not fit the default 1 GiB disk. Instead root is subscribed to the
    # standard channel of the image's release on first boot, so `nixos-rebuild switch` finds
    # <nixpkgs> as on any NixOS (nix.channel.enable and the default NIX_PATH are kept). If the
    # download fails (no internet) the boot goes on and the unit tries again at the next boot;
    # `nixos-rebuild switch --upgrade` fetches the channel too. The channel's head is newer than the
    # image's revision, so the first switch also upgrades.
    systemd.services.nixos-cloud-image-channel = {
      description = "Subscribe root to the NixOS channel";
      wantedBy = [ "multi-user.target" ];
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      unitConfig.ConditionPathExists = "!/nix/var/nix/profiles/per-user/root/channels";
      path = [ config.nix.package ];
      environment.HOME = "/root";
      serviceConfig.Type = "oneshot";
      script = ''
        channel=${lib.escapeShellArg cfg.channel}
        nix-channel --add "$channel" nixos
        nix-channel --update nixos ||
          echo "Could not fetch $channel; run 'nixos-rebuild switch --upgrade' once it is reachable." >&2
      '';
    };
  };
}
