/**
 * The formal arguments of nixpkgs' nixos/lib/make-disk-image.nix before 25.05: the argument set that has
 * no `baseName` and no `...`, so any other name fails the build on those releases with "called with
 * unexpected argument". pkgs, lib and config have no default.
 */
export const MAKE_DISK_IMAGE_2411 = [
  "pkgs",
  "lib",
  "config",
  "diskSize",
  "additionalSpace",
  "bootSize",
  "contents",
  "partitionTableType",
  "installBootLoader",
  "touchEFIVars",
  "OVMF",
  "efiFirmware",
  "efiVariables",
  "fsType",
  "label",
  "configFile",
  "postVM",
  "memSize",
  "onlyNixStore",
  "name",
  "format",
  "deterministic",
  "rootGPUID",
  "rootFSUID",
  "copyChannel",
  "additionalPaths",
];

/** A make-disk-image.nix with exactly those formals, which returns the arguments it was called with. */
export function makeDiskImageStub(): string {
  const formals = MAKE_DISK_IMAGE_2411.map((n) =>
    ["pkgs", "lib", "config"].includes(n) ? n : `${n} ? null`,
  );
  return `{ ${formals.join(", ")} }@args: { called = builtins.removeAttrs args [ "pkgs" "lib" "config" ]; }\n`;
}
