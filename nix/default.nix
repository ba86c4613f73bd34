# nix-build nix --arg kernelLatest false --arg diskSize 2048
#
# A raw, BIOS-booting NixOS image for OpenStack. The result holds nixos.img and
# nix-support/image-info.json, which describes it (see ./image.nix).
#
# Pure: the nixpkgs used is the pin in ./pin.nix unless `nixpkgs` says otherwise; NIX_PATH is not
# consulted. To build from the nixpkgs on your NIX_PATH, say so: --arg nixpkgs '<nixpkgs>'.
#
# Works with nixpkgs from NixOS 24.11 through current unstable.
{
  # Boot pkgs.linuxPackages_latest (true) or the release's default pkgs.linuxPackages (false).
  kernelLatest ? true,
  # Size of the raw disk image, in MiB: a whole number from 1024 to 2097152 (bounds in ./args.nix).
  diskSize ? 1024,
  # nixpkgs to build from: null = the pin in ./pin.nix; a path (e.g. '<nixpkgs>' or ./nixpkgs) used
  # as is; an http(s) URL of a tarball, fetched; a string holding an absolute path, that path.
  nixpkgs ? null,
  # Nix system to build for; only "x86_64-linux" is supported (BIOS boot, GRUB on /dev/vda).
  system ? builtins.currentSystem,
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
assert args.check.extraModules extraModules;
assert args.check.nixpkgs nixpkgs;
import ./image.nix {
  inherit
    kernelLatest
    diskSize
    system
    extraModules
    ;
  nixpkgs = args.resolveNixpkgs nixpkgs;
  # The pin's revision names the version (e.g. "25.11.20260225.1267bb4"); other trees name their own.
  pin = if nixpkgs == null then import ./pin.nix else null;
}
