# The arguments ./image.nix passes to nixpkgs' nixos/lib/make-disk-image.nix (besides pkgs, lib and
# config), for a checked diskSize and boot mode. Plain Nix, so tests can check it without nixpkgs.
#
# Only arguments that make-disk-image.nix has accepted in every release from 24.11 on: its argument set
# has no `...`, so any other name fails the build ("called with unexpected argument"). `baseName`, for
# one, only exists from 25.05; its default already names the file nixos.img.
{
  # "auto" or MiB.
  diskSize,
  # "bios", "uefi" or "hybrid".
  bootMode,
  # The derivation's name.
  name,
  # The files of /etc/nixos: { source, target }.
  etcNixos,
  # Shell code run after the image is written ($diskImage is the file).
  postVM,
}:
{
  inherit name postVM diskSize;
  # With "auto", make-disk-image sizes the disk as: what the root file system holds (file sizes, plus
  # two 4 KiB blocks per inode), plus about 5 % for ext4's reserved blocks, plus this, plus the room
  # before and after the root partition (1 MiB for MBR; for GPT, bootSize, where the ESP ends, and
  # 17 KiB for the backup table), rounded up to a whole MiB (nixpkgs nixos/lib/make-disk-image.nix).
  # 1 GiB, as nixpkgs' own OpenStack image; the root file system grows to the instance's disk at boot.
  additionalSpace = "1024M";
  # Where the ESP ends (uefi and hybrid; it starts at 8 MiB), twice make-disk-image's default: GRUB
  # keeps a copy of every kernel and initrd its menu offers there (./boot.nix limits them).
  bootSize = "512M";
  format = "raw";
  partitionTableType =
    {
      bios = "legacy";
      uefi = "efi";
      hybrid = "hybrid";
    }
    .${bootMode};
  fsType = "ext4";
  label = "nixos";
  # /etc/nixos is written through `contents`, not `configFile` (which copies configuration.nix with the
  # store's read-only mode): every file there is root's and writable, as on an installed NixOS, so
  # "edit it, then nixos-rebuild switch" works. make-disk-image applies `mode` with rsync --chmod, and
  # `user`/`group` (which it wants both or neither of) with chown in its VM.
  contents = map (
    e:
    e
    // {
      mode = "u+w";
      user = "root";
      group = "root";
    }
  ) etcNixos;
  # No bundled nixpkgs: see the channel in ./cloud.nix.
  copyChannel = false;
}
