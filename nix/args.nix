# The rules for nix/default.nix's arguments, shared with the fixture image
# (test/fixtures/image/default.nix) so both refuse exactly the same values.
#
# Plain Nix, no nixpkgs `lib` (its `lib.assertMsg` is re-stated below): the checks run before nixpkgs
# is fetched or imported, so a bad argument fails at once with a message saying what to pass, and
# they can be tested on a machine without nixpkgs.
let
  # diskSize bounds for an explicit size, in MiB. components/validate.ts (DISK_SIZE_MIN, DISK_SIZE_MAX)
  # uses the same numbers. 1 GiB: the seed's size. A closure that does not fit makes make-disk-image fail
  # with "cptofs failed. diskSize might be too small for closure": "auto" (the default) always fits.
  diskSizeMin = 1024;
  # 2 TiB: the most an MBR ("legacy", bootMode bios) partition table can address with 512-byte
  # sectors. GPT (uefi, hybrid) has no such limit; one bound for every mode keeps the rule the same
  # as components/validate.ts's. The root partition grows to the instance's disk at boot, but on an
  # MBR disk only up to 2 TiB.
  diskSizeMax = 2097152;

  # The platforms the image supports. aarch64 has no BIOS: its images boot with UEFI only.
  systems = [
    "x86_64-linux"
    "aarch64-linux"
  ];
  # How the image boots: "bios" (MBR, GRUB in the MBR), "uefi" (GPT, GRUB on the EFI system partition)
  # or "hybrid" (GPT with both, so one image boots under either firmware).
  bootModes = [
    "bios"
    "uefi"
    "hybrid"
  ];
  # The boot modes each system can use; the first is its default.
  bootModesOf = {
    "x86_64-linux" = bootModes;
    "aarch64-linux" = [ "uefi" ];
  };

  # A channel name as on https://nixos.org/channels (nixos-25.11, nixos-unstable, their -small variants).
  isChannelName = s: builtins.match "nixos-(unstable|[0-9][0-9][.][0-9][0-9])(-small)?" s != null;

  # As nixpkgs' lib.assertMsg: true, or an error with the message.
  assertMsg = pred: msg: pred || builtins.throw msg;

  # A value as it appears in a message.
  show =
    v:
    if builtins.isString v || builtins.isInt v || builtins.isFloat v || builtins.isBool v || v == null then
      builtins.toJSON v
    else if builtins.isPath v then
      toString v
    else
      "a value of type ${builtins.typeOf v}";

  # `--argstr x 1024` passes the string "1024": if the string spells a valid value, say how to pass it.
  argstrHint =
    name: spelling: v:
    if builtins.isString v && builtins.match spelling v != null then
      " Pass it with --arg ${name} ${v}, not --argstr."
    else
      "";

  isUrl = s: builtins.match "https?://[^/[:space:]]+/.*" s != null;
  hasScheme = s: builtins.match "[a-zA-Z][a-zA-Z0-9+.-]*://.*" s != null;
  isAbsolute = s: builtins.substring 0 1 s == "/";

  # A local nixpkgs must have the file the image is built with.
  isNixpkgsTree = p: builtins.pathExists (toString p + "/nixos/lib/make-disk-image.nix");
  nixpkgsRule = ''The "nixpkgs" argument must be null (the pin in nix/pin.nix), a path or an absolute path string of a nixpkgs source tree, or an http(s) URL of a nixpkgs tarball'';
  # The diskSize rule, for a given lower bound.
  checkDiskSize =
    min: v:
    assertMsg (v == "auto" || builtins.isInt v && v >= min && v <= diskSizeMax)
      ''The "diskSize" argument must be "auto" (the closure plus headroom) or a whole number of MiB from ${toString min} to ${toString diskSizeMax}; received ${show v}.${argstrHint "diskSize" "[0-9]+" v}'';
in
{
  inherit
    diskSizeMin
    diskSizeMax
    systems
    bootModes
    assertMsg
    show
    checkDiskSize
    isChannelName
    ;

  # The boot mode an accepted (system, bootMode) pair designates: null is the system's default.
  resolveBootMode =
    system: bootMode: if bootMode == null then builtins.head bootModesOf.${system} else bootMode;

  # One check per argument: each returns true or throws a message that names the argument, states
  # the rule and shows the value received.
  check = {
    kernelLatest =
      v:
      assertMsg (builtins.isBool v)
        ''The "kernelLatest" argument must be a boolean (true or false); received ${show v}.${argstrHint "kernelLatest" "true|false" v}'';

    diskSize = checkDiskSize diskSizeMin;

    system =
      v:
      assertMsg (builtins.elem v systems)
        ''The "system" argument must be ${builtins.concatStringsSep " or " (map builtins.toJSON systems)}; received ${show v}. Pass --argstr system x86_64-linux (or aarch64-linux) on such a machine or with a builder for it (nix-build --option builders ...).'';

    # bootMode given the (already checked) system.
    bootMode =
      system: v:
      assertMsg (v == null || builtins.elem v bootModes)
        ''The "bootMode" argument must be null (the system's default) or one of ${builtins.concatStringsSep ", " (map builtins.toJSON bootModes)}; received ${show v}.''
      && assertMsg (v == null || builtins.elem v bootModesOf.${system})
        ''The "bootMode" argument must be ${builtins.concatStringsSep " or " (map builtins.toJSON bootModesOf.${system})} for system ${builtins.toJSON system} (it has no BIOS); received ${show v}.'';

    channel =
      v:
      assertMsg (v == null || builtins.isString v && (isChannelName v || isUrl v))
        ''The "channel" argument must be null (derived from nixpkgs), a channel name such as "nixos-25.11" or "nixos-unstable", or an http(s) URL of a channel; received ${show v}.'';

    extraModules =
      v:
      assertMsg (builtins.isList v && builtins.all builtins.isPath v)
        ''The "extraModules" argument must be a list of paths of NixOS modules (files or directories, shipped to /etc/nixos/extra so nixos-rebuild keeps them), e.g. --arg extraModules '[ ./site.nix ]'; received ${
          if builtins.isList v then "[ ${builtins.concatStringsSep " " (map show v)} ]" else show v
        }.'';

    nixpkgs =
      v:
      if v == null then
        true
      else if builtins.isPath v then
        assertMsg (isNixpkgsTree v) "${nixpkgsRule}; ${show v} has no nixos/lib/make-disk-image.nix."
      else if builtins.isString v && hasScheme v then
        assertMsg (isUrl v) "${nixpkgsRule}; received ${show v}, which is not an http(s) URL."
      else if builtins.isString v then
        assertMsg (isAbsolute v) "${nixpkgsRule}; received the relative path ${show v}: make it absolute, or pass it as a path (--arg nixpkgs ${v})."
        && assertMsg (isNixpkgsTree v) "${nixpkgsRule}; ${show v} has no nixos/lib/make-disk-image.nix."
      else
        builtins.throw "${nixpkgsRule}; received ${show v}.";
  };

  # The nixpkgs source tree an accepted `nixpkgs` argument designates. Lazy: nothing is fetched until
  # the result is used. A URL is fetched without a hash (as `nix-build -I nixpkgs=<url>` would), so
  # give the URL of a revision (.../archive/<rev>.tar.gz), not of a branch.
  resolveNixpkgs =
    v:
    if v == null then
      (import ./pin.nix).src
    else if builtins.isPath v then
      v
    else if isUrl v then
      builtins.fetchTarball v
    else
      /. + v;
}
