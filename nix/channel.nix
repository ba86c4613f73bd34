# The channel root is subscribed to on an instance's first boot, as a URL (see ./cloud.nix), from
# nix/default.nix's `channel` argument and the nixpkgs tree the image is built from.
#
# Plain Nix: ./image.nix calls it with nixpkgs' lib.trivial.release and lib.trivial.versionSuffix, and
# tests call it without nixpkgs. Why the version suffix decides: an unstable tree already names the NEXT
# release (master says e.g. 26.05 from the day 25.11 branches off), and nixos-26.05 has no channel until
# it branches off in turn, so "nixos-${release}" is only right for a release branch. Channel tarballs
# record which they are in .version-suffix: nixos/release.nix writes "." + revCount + "." + rev on a
# stable branch and "pre" + revCount + "." + rev on unstable. A git checkout or a GitHub tarball has no
# .version-suffix (lib.trivial.versionSuffix is then "pre-git") and cannot tell: it needs `channel`.
let
  args = import ./args.nix;
in
{
  # nix/default.nix's `channel` argument (checked): null, a channel name or a URL.
  channel,
  # lib.trivial.release of the tree, e.g. "25.11".
  release,
  # lib.trivial.versionSuffix of the tree, e.g. ".912345.1267bb4", "pre912345.1267bb4" or "pre-git".
  versionSuffix,
  # The branch the tree is known to come from (nix/pin.nix's), or null.
  branch,
}:
let
  name =
    if channel != null then
      channel
    else if branch != null then
      branch
    else if builtins.match "pre[0-9]+[.].*" versionSuffix != null then
      "nixos-unstable"
    else if builtins.match "[.][0-9]+[.].*" versionSuffix != null then
      "nixos-${release}"
    else
      builtins.throw ''The "channel" argument must be given for this nixpkgs: its version "${release}${versionSuffix}" does not tell a release branch (channel nixos-${release}) from unstable (which already names the next release, and whose channel is nixos-unstable). Pass --argstr channel nixos-${release} or --argstr channel nixos-unstable (in a stack, the "channel" setting).'';
in
if args.isChannelName name then "https://nixos.org/channels/${name}" else name
