# The OpenStack platform, shipped to /etc/nixos/cloud.nix and imported by ./configuration.nix: boot
# (./boot.nix), a root file system that grows to the flavor's disk, the QEMU guest agent, cloud-init as
# the one metadata agent with host keys that never change under a client, the kernel choice and the
# channel.
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
  options,
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
  # The markers cloud-init's keys-to-console module prints around host keys, which tools that read
  # Nova's console log (and nixos-image-verify) look for.
  fingerprints = "SSH HOST KEY FINGERPRINTS";
  keys = "SSH HOST KEY KEYS";
in
{
  imports = [
    (modulesPath + "/profiles/qemu-guest.nix")
    ./boot.nix
  ];

  options.nixosCloudImage = {
    kernelLatest = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Boot pkgs.linuxPackages_latest (true) or the release's default pkgs.linuxPackages (false).";
    };
    # No default: the release alone does not say which channel exists (see ../channel.nix in the
    # source tree); the image's image-settings.nix sets the one it was built for.
    channel = lib.mkOption {
      type = lib.types.str;
      example = "https://nixos.org/channels/nixos-unstable";
      description = "The channel root subscribes to, as `nixos`, if it has none.";
    };
  };

  config = {
    boot.kernelPackages = if cfg.kernelLatest then pkgs.linuxPackages_latest else pkgs.linuxPackages;

    # Disk: one ext4 file system labelled "nixos" (./boot.nix has the partition layouts), grown to the
    # instance's disk on every boot in stage 2: boot.growPartition runs growpart.service after the
    # root is mounted and before systemd-growfs-root.service, which autoResize adds (both since NixOS
    # 24.05: nixpkgs nixos/modules/system/boot/grow-partition.nix). autoResize needs the explicit fsType.
    fileSystems."/" = {
      device = "/dev/disk/by-label/nixos";
      fsType = "ext4";
      autoResize = true;
    };
    # A boolean option to this day; an open nixpkgs change (PR 447165) makes it a set with `enable`.
    # The option's declaration says which one the nixpkgs in use has, so this file keeps evaluating
    # on the channel the instance follows, whichever way that goes.
    boot.growPartition =
      let
        opt = options.boot.growPartition;
      in
      if lib.isOption opt && opt.type.name == "bool" then true else { enable = true; };

    # Pairs with Glance's hw_qemu_guest_agent=yes; image-info.json reports it.
    services.qemuGuest.enable = true;

    # The one metadata agent; its settings are in ./cloud-init-settings.nix.
    services.cloud-init = {
      enable = true;
      network.enable = false;
      settings = import ./cloud-init-settings.nix;
    };
    networking.hostName = lib.mkDefault "";

    # The host keys' fingerprints and public keys on the console (Nova's console log), between the
    # markers cloud-init uses, once sshd has its keys: users and the verifier can pin the host key from
    # the log instead of trusting it on first use. sshd-keygen.service generates the keys in current
    # nixpkgs; older releases generate them in sshd.service's preStart, so both are waited for.
    systemd.services.nixos-cloud-image-host-keys = {
      description = "Print the SSH host key fingerprints to the console";
      wantedBy = [ "multi-user.target" ];
      after = [
        "sshd-keygen.service"
        "sshd.service"
      ];
      path = [ config.programs.ssh.package ];
      serviceConfig = {
        Type = "oneshot";
        StandardOutput = "journal+console";
      };
      script =
        let
          pubs = map (k: lib.escapeShellArg "${k.path}.pub") config.services.openssh.hostKeys;
        in
        ''
          echo "-----BEGIN ${fingerprints}-----"
          for key in ${toString pubs}; do if [ -e "$key" ]; then ssh-keygen -l -f "$key"; fi; done
          echo "-----END ${fingerprints}-----"
          echo "-----BEGIN ${keys}-----"
          for key in ${toString pubs}; do if [ -e "$key" ]; then cat "$key"; fi; done
          echo "-----END ${keys}-----"
        '';
    };

    assertions = map (name: {
      assertion = !(config.systemd.services ? ${name}) || !config.systemd.services.${name}.enable;
      message = "The ${name} service is enabled next to cloud-init; an image has exactly one metadata agent. Set systemd.services.${name}.enable = false or do not import the module that adds it (e.g. virtualisation/openstack-config.nix).";
    }) otherAgents;

    # The channel. Bundling nixpkgs in the image (make-disk-image's copyChannel) adds ~600 MB to every
    # image and upload. Instead root is subscribed to the image's channel (nixosCloudImage.channel)
    # after boot, so `nixos-rebuild switch` finds <nixpkgs> as on any NixOS (nix.channel.enable and the
    # default NIX_PATH are kept). A timer starts it, so boot never waits for the download: the first
    # try a minute after boot, then hourly until one succeeds (the unit's condition then stops it),
    # each bounded to 15 minutes. `nixos-rebuild switch --upgrade` fetches the channel too. The
    # channel's head is newer than the image's revision, so the first switch also upgrades.
    #
    # The channel /root/.nix-channels names from the first boot (nixpkgs
    # nixos/modules/config/nix-channel.nix writes this option's value there with tmpfiles, if the
    # file is missing; its default is nixos-unstable). Without it, a `nixos-rebuild switch --upgrade`
    # before the unit below has run would move the instance to unstable, and the unit's condition
    # would then keep it there.
    system.defaultChannel = cfg.channel;
    systemd.services.nixos-cloud-image-channel = {
      description = "Subscribe root to the NixOS channel";
      wants = [ "network-online.target" ];
      after = [ "network-online.target" ];
      unitConfig.ConditionPathExists = "!/nix/var/nix/profiles/per-user/root/channels";
      path = [ config.nix.package ];
      environment.HOME = "/root";
      serviceConfig = {
        Type = "oneshot";
        TimeoutStartSec = "15min";
      };
      script = ''
        channel=${lib.escapeShellArg cfg.channel}
        nix-channel --add "$channel" nixos
        if ! nix-channel --update nixos; then
          echo "Could not fetch $channel; trying again within the hour. 'nixos-rebuild switch --upgrade' fetches it too." >&2
          exit 1
        fi
      '';
    };
    systemd.timers.nixos-cloud-image-channel = {
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnBootSec = "1min";
        OnUnitInactiveSec = "1h";
      };
    };
  };
}
