# The test guest is Debian, not NixOS: this file stands where the real image ships its configuration, so
# the component's check that /etc/nixos/configuration.nix is on the instance has something to find.
{ }
