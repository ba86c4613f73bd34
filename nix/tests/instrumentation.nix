# The test driver's backdoor (a root shell on a virtio console) for the image under test: an extra
# module of the image, so it ships to /etc/nixos/extra like any other. modulesPath, not a path relative
# to nixpkgs, so the shipped copy still evaluates on the instance (`nixos-rebuild dry-build`).
{ modulesPath, ... }:
{
  imports = [ (modulesPath + "/testing/test-instrumentation.nix") ];
}
