# nix-build nix --arg kernelLatest false --arg diskSize 2048
#
# A raw NixOS image for OpenStack. The result holds nixos.img and nix-support/image-info.json, which
# describes it (docs/image-info.md).
#
# Pure: the nixpkgs used is the pin in ./pin.nix unless `nixpkgs` says otherwise; NIX_PATH is not
# consulted. To build from the nixpkgs on your NIX_PATH, say so: --arg nixpkgs '<nixpkgs>'.
#
# Works with nixpkgs from NixOS 24.11 through current unstable.
{
  # Boot pkgs.linuxPackages_latest (true) or the release's default pkgs.linuxPackages (false).
  kernelLatest ? true,
  # Size of the raw disk image: "auto" (always fits: the closure's files and inodes plus about 5 %,
  # plus 1 GiB, plus the partition table and, for uefi and hybrid, the 512 MiB ESP; the rule is in
  # ./disk-image-args.nix) or MiB, a whole number from 1024 to 2097152 (bounds in ./args.nix; uefi
  # and hybrid take the ESP out of it). image-info.json reports the size built.
  diskSize ? "auto",
  # nixpkgs to build from: null = the pin in ./pin.nix; a path (e.g. '<nixpkgs>' or ./nixpkgs) used
  # as is; an http(s) URL of a tarball, fetched; a string holding an absolute path, that path.
  nixpkgs ? null,
  # Nix system to build for: "x86_64-linux" or "aarch64-linux" (on such a machine, or a builder for it).
  system ? builtins.currentSystem,
  # How the image boots: "bios", "uefi" or "hybrid" (both); null = the system's default, "bios" on
  # x86_64 and "uefi" on aarch64 (which has nothing else).
  bootMode ? null,
  # The channel root subscribes to on first boot: a name ("nixos-25.11", "nixos-unstable") or a URL;
  # null = derived from nixpkgs (./channel.nix), which a git checkout or GitHub tarball cannot tell.
  channel ? null,
  # Extra NixOS modules (paths): built into the image and shipped to /etc/nixos/extra, so that
  # `nixos-rebuild switch` on an instance keeps them.
  extraModules ? [ ],
}:
let
  args = import ./args.nix;
in
# Every argument is checked before nixpkgs is fetched or imported.
assert args.check.kernelLatest kernelLatest;
assert args.check.diskSize diskSize;
assert args.check.system system;
assert args.check.bootMode system bootMode;
assert args.check.channel channel;
assert args.check.extraModules extraModules;
assert args.check.nixpkgs nixpkgs;
import ./image.nix {
  inherit
    kernelLatest
    diskSize
    system
    channel
    extraModules
    ;
  bootMode = args.resolveBootMode system bootMode;
  nixpkgs = args.resolveNixpkgs nixpkgs;
  # The pin's revision names the version (e.g. "25.11.20260225.1267bb4"); other trees name their own.
  pin = if nixpkgs == null then import ./pin.nix else null;
}
