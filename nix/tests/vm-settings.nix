# What ./openstack-image.nix decides before it imports nixpkgs: the checked disk bus and firmware,
# the guest's memory and where the test keeps its disk. Plain Nix (no nixpkgs `lib`), so a bad
# combination fails at once and test/nix/vmTest.test.ts can check all of it without nixpkgs.
let
  args = import ../args.nix;
  buses = [
    "virtio"
    "scsi"
    "nvme"
  ];
  firmwares = [
    "bios"
    "uefi"
  ];
in
{
  # As nix/default.nix's, and checked as it does.
  system,
  bootMode,
  # As ./openstack-image.nix's.
  diskInterface,
  firmware,
}:
let
  mode = args.resolveBootMode system bootMode;
  # null: the boot mode's firmware (BIOS for hybrid).
  boot = if firmware != null then firmware else if mode == "uefi" then "uefi" else "bios";
in
assert args.check.system system;
assert args.check.bootMode system bootMode;
assert args.assertMsg (builtins.elem diskInterface buses)
  ''The "diskInterface" argument must be one of ${builtins.concatStringsSep ", " (map builtins.toJSON buses)}; received ${args.show diskInterface}.'';
assert args.assertMsg (builtins.elem boot firmwares)
  ''The "firmware" argument must be null (the boot mode's) or ${builtins.concatStringsSep " or " (map builtins.toJSON firmwares)}; received ${args.show boot}.'';
# A disk without an ESP gives UEFI firmware nothing to boot, a disk without GRUB in its MBR gives
# BIOS nothing: either would only time out, so both are refused. Only hybrid boots under both.
assert args.assertMsg (
  boot == "uefi" || mode != "uefi"
) "A bootMode \"uefi\" image needs firmware \"uefi\"; received firmware ${builtins.toJSON boot}.";
assert args.assertMsg (
  boot == "bios" || mode != "bios"
) "A bootMode \"bios\" image needs firmware \"bios\"; received firmware ${builtins.toJSON boot}.";
{
  inherit mode diskInterface;
  firmware = boot;

  # The guest's memory, in MiB. `nixos-rebuild dry-build` evaluates all of NixOS in the guest, and
  # the test driver's instrumentation makes any out-of-memory a kernel panic (nixpkgs
  # nixos/modules/testing/test-instrumentation.nix sets the vm.panic_on_oom sysctl to 2), so the
  # evaluation gets room to spare rather than a VM that dies in it.
  memory = 4096;

  # Python for the test script: makes the directory that holds the test's disk and firmware
  # variables, and names it `image_dir`. Not the driver's own directory for the machine: the driver
  # names a machine made from a bare start command "machine" and, on creating it, deletes
  # <tmp>/vm-state-machine (nixpkgs nixos/lib/test-driver, the Machine constructor; <tmp> is
  # $XDG_RUNTIME_DIR or else $TMPDIR). A fresh directory of its own can be neither.
  imageDir = ''image_dir = tempfile.mkdtemp(prefix="nixos-cloud-image-")'';
}
