# The image: ./configuration.nix evaluated with the build's settings, written by nixpkgs'
# make-disk-image.nix as one raw disk (partition layout per boot mode: ./disk-image-args.nix), with
# /etc/nixos filled so the instance can rebuild itself, and described by
# $out/nix-support/image-info.json (the contract: docs/image-info.md):
#
#   { "file": "/nix/store/...-nixos-openstack-image-.../nixos.img", "format": "raw", "diskSize": 2861,
#     "nixosVersion": "25.11.20260225.1267bb4", "nixosRelease": "25.11", "kernelVersion": "6.18.9",
#     "system": "x86_64-linux", "qemuGuestAgent": true, "bootMode": "bios",
#     "channel": "https://nixos.org/channels/nixos-25.11" }
#
# Called by ./default.nix with checked arguments; `nixpkgs` is a source tree, `pin` is ./pin.nix when
# the tree is the pin (null otherwise), `bootMode` is resolved (never null).
{
  nixpkgs,
  pin,
  system,
  kernelLatest,
  diskSize,
  bootMode,
  channel,
  extraModules,
}:
let
  lib = import (nixpkgs + "/lib");
  evalConfig = import (nixpkgs + "/nixos/lib/eval-config.nix");

  # The release the image is first built from: system.stateVersion of every instance.
  stateVersion = lib.trivial.release;

  # The channel URL root subscribes to (./channel.nix explains the rule).
  channelUrl = import ./channel.nix {
    inherit channel;
    inherit (lib.trivial) release versionSuffix;
    branch = if pin != null then pin.branch else null;
  };

  # Extra modules go to /etc/nixos/extra/<n>-<name>. A module that imports files next to it should
  # be given as its directory (with a default.nix), so the files travel with it.
  extra = lib.imap0 (i: source: {
    inherit source;
    name =
      let
        base = baseNameOf (toString source);
      in
      "extra/${toString i}-${if builtins.match "[A-Za-z0-9._+-]+" base != null then base else "module"}";
  }) extraModules;

  # /etc/nixos/image-settings.nix on the instance: what ./configuration.nix needs to rebuild the
  # system the image was built with.
  settingsFile = builtins.toFile "image-settings.nix" ''
    # Generated when this image was built (nix/image.nix); ./configuration.nix imports it.
    # Edit it to change these settings, then run nixos-rebuild switch.
    {
      imports = [ ${lib.concatMapStringsSep " " (e: ''(./. + "/${e.name}")'') extra} ];
      # Boot linuxPackages_latest (true) or the release's default linuxPackages (false).
      nixosCloudImage.kernelLatest = ${lib.boolToString kernelLatest};
      # The channel root subscribes to (as "nixos") if it has none.
      nixosCloudImage.channel = "${channelUrl}";
      # How this disk boots. Do not change it: it is fixed by the disk's partition layout.
      nixosCloudImage.bootMode = "${bootMode}";
      # The release this instance was first installed with. Do not change it; see
      # https://nixos.org/manual/nixos/stable/options#opt-system.stateVersion
      system.stateVersion = "${stateVersion}";
    }
  '';

  # The same settings for the build, which evaluates ./configuration.nix from the source tree (where
  # ./image-settings.nix is empty) and the extra modules from where they are.
  settingsModule = {
    imports = extraModules;
    nixosCloudImage = {
      inherit kernelLatest bootMode;
      channel = channelUrl;
    };
    system.stateVersion = stateVersion;
  };

  # A GitHub tarball has no .version-suffix, which would make the version "25.11pre-git". For the pin,
  # name it as the nixpkgs flake would. Build-only: on the instance the channel names its own version.
  versionModule = lib.optionalAttrs (pin != null) {
    system.nixos.versionSuffix = ".${pin.lastModifiedDate}.${builtins.substring 0 7 pin.rev}";
    system.nixos.revision = pin.rev;
  };

  nixos = evalConfig (
    {
      inherit system;
      modules = [
        ./configuration.nix
        settingsModule
        versionModule
      ];
    }
    # Without this, eval-config.nix up to 24.11 imports $NIXOS_EXTRA_MODULE_PATH (25.05 removed the
    # variable, and the argument with it): keep the build pure.
    // lib.optionalAttrs (builtins.functionArgs evalConfig ? extraModules) { extraModules = [ ]; }
  );
  inherit (nixos) config pkgs;

  # Everything the image holds in /etc/nixos: ./configuration.nix and what it imports.
  etcNixos =
    map
      (file: {
        source = ./. + "/${file}";
        target = "/etc/nixos/${file}";
      })
      [
        "configuration.nix"
        "cloud.nix"
        "boot.nix"
        "cloud-init-settings.nix"
      ]
    ++ [
      {
        source = settingsFile;
        target = "/etc/nixos/image-settings.nix";
      }
    ]
    ++ map (e: {
      inherit (e) source;
      target = "/etc/nixos/${e.name}";
    }) extra;

  # nix-support/image-info.json; `file` is filled in by Nix with the output path, `diskSize` by postVM
  # with the size of the file written (with "auto", make-disk-image decides it).
  imageInfo = {
    file = "${builtins.placeholder "out"}/nixos.img";
    format = "raw";
    inherit diskSize bootMode;
    nixosVersion = config.system.nixos.version;
    nixosRelease = config.system.nixos.release;
    kernelVersion = config.boot.kernelPackages.kernel.version;
    system = pkgs.stdenv.hostPlatform.system;
    qemuGuestAgent = config.services.qemuGuest.enable;
    channel = channelUrl;
  };

  sizeMarker = "@diskSize@";

  diskImageArgs = import ./disk-image-args.nix {
    inherit diskSize bootMode etcNixos;
    name = "nixos-openstack-image-${config.system.nixos.label}";
    postVM = ''
      size=$(${pkgs.coreutils}/bin/stat -c %s "$diskImage")
      ${
        if diskSize == "auto" then
          ''
            if [ $((size % 1048576)) -ne 0 ]; then
              echo "$diskImage is $size bytes, not a whole number of MiB" >&2
              exit 1
            fi
          ''
        else
          ''
            if [ "$size" -ne ${toString (diskSize * 1048576)} ]; then
              echo "$diskImage is $size bytes, not ${toString diskSize} MiB" >&2
              exit 1
            fi
          ''
      }
      # The document with the size written in place of its marker (a JSON string, so the number
      # replaces the quotes too).
      info=${lib.escapeShellArg (builtins.toJSON (imageInfo // { diskSize = sizeMarker; }))}
      mkdir -p $out/nix-support
      printf '%s\n' "''${info/\"${sizeMarker}\"/$((size / 1048576))}" > $out/nix-support/image-info.json
    '';
  };

  image = import (nixpkgs + "/nixos/lib/make-disk-image.nix") (
    diskImageArgs
    // {
      inherit lib config pkgs;
    }
  );
in
image
// {
  # For tests and `nix repl`: the NixOS configuration, the image-info document (with `file` still a
  # placeholder and diskSize as requested), make-disk-image's arguments and the files /etc/nixos
  # receives ({ source, target }).
  inherit
    config
    imageInfo
    diskImageArgs
    etcNixos
    ;
}
