# A bootable test guest as the component's `source`: copied next to guest.json by scripts/guest/build.sh.
#
# It takes the component's arguments (as nix/default.nix) and yields the same result layout as
# test/fixtures/image: $out/nixos.img (the guest's whole-disk raw image, grown to diskSize MiB) and
# $out/nix-support/image-info.json. guest.json names the disk in the guest cache and its build key, so a
# different guest build is a different derivation and a different store path, and the disk's boot mode
# ("bios": MBR and SYSLINUX; "uefi": GPT and systemd-boot), which image-info.json records as its bootMode.
# (The entry bios-as-uefi records "uefi" for a BIOS-only disk on purpose: a guest that must fail to boot.)
#
# Like the fixture, the builder is the host's /bin/sh (no nixpkgs), so it sets __noChroot: `sandbox = relaxed`.
{
  # Accepted as nix/default.nix does; the guest's kernel is Debian's either way (recorded in image-info.json).
  kernelLatest ? true,
  # MiB, at least the guest's own disk size (guest.json), or "auto" (the component's default) for exactly
  # that size: the partitions stay as built.
  diskSize ? "auto",
  nixpkgs ? null,
  system ? builtins.currentSystem,
  # null or the guest's own boot mode (guest.json's bootMode): a disk boots one way only, so this chooses
  # nothing. channel is accepted as nix/default.nix does: the guest has Debian's apt, not a channel.
  bootMode ? null,
  channel ? null,
  extraModules ? [ ],
}:
let
  guest = builtins.fromJSON (builtins.readFile ./guest.json);
  size = if diskSize == "auto" then guest.diskSize else diskSize;
  imageInfo = {
    file = "${builtins.placeholder "out"}/nixos.img";
    format = "raw";
    diskSize = size;
    inherit system;
    nixosVersion = "debian${guest.debianVersion}-guest-${guest.variant}";
    nixosRelease = "debian${guest.debianVersion}";
    kernelVersion = guest.kernelVersion;
    qemuGuestAgent = false;
    bootMode = guest.bootMode;
    # The contract wants the channel root would follow; the guest's counterpart is its Debian mirror.
    channel = "http://deb.debian.org/debian";
  };
in
assert builtins.isBool kernelLatest;
assert builtins.isList extraModules;
assert
  bootMode == null || bootMode == guest.bootMode
  || throw ''The "bootMode" argument must be null or "${guest.bootMode}" (the test guest's boot mode); received ${builtins.toJSON bootMode}.'';
assert
  system == "x86_64-linux"
  || throw ''The "system" argument must be "x86_64-linux" for the test guest; received "${system}".'';
assert
  diskSize == "auto" || builtins.isInt diskSize && diskSize >= guest.diskSize
  || throw ''The "diskSize" argument must be "auto" or a whole number of MiB of at least ${toString guest.diskSize} (the test guest's disk); received ${builtins.toJSON diskSize}.'';
builtins.derivation {
  name = "nixos-cloud-image-test-guest-${guest.variant}";
  inherit system;
  diskSize = size;
  # Imported into the store by the evaluator (as the user running nix-build): the builder runs as a build
  # user, which may not read the cache (under /root in CI). The copy in the store is not sparse.
  disk = builtins.path {
    path = /. + guest.disk;
    name = "test-guest-${guest.variant}-${guest.key}.raw";
  };
  key = guest.key;
  info = builtins.toJSON imageInfo;
  builder = "/bin/sh";
  args = [
    "-c"
    ''
      set -eu
      img="$out/nixos.img"
      mkdir -p "$out/nix-support"
      cp --sparse=always "$disk" "$img"
      chmod u+w "$img"
      truncate -s "$((diskSize * 1048576))" "$img"
      printf '%s\n' "$info" > "$out/nix-support/image-info.json"
    ''
  ];
  PATH = "/usr/bin:/bin";
  __noChroot = true;
  preferLocalBuild = true;
  allowSubstitutes = false;
}
