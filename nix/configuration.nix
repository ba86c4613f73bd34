# /etc/nixos/configuration.nix of every instance booted from the image: the image is built from
# this file, and ships it (with the files it imports) so `nixos-rebuild switch` keeps all of it.
#
# Who may log in, and how: only the user `nixos`, with the key from the cloud's metadata (put there
# by cloud-init, see ./cloud.nix), with passwordless sudo. No root login, no passwords.
#
# Option names hold from NixOS 24.11 through current unstable.
{ ... }:
let
  user = "nixos";
in
{
  imports = [
    # The OpenStack platform: boot, disk, console, guest agent, metadata agent, kernel, channel.
    ./cloud.nix
    # The arguments the image was built with (kernelLatest, stateVersion, extra modules). The image
    # ships a generated one; the one in the source tree holds the defaults.
    ./image-settings.nix
  ];

  users.users.${user} = {
    isNormalUser = true;
    description = "Default cloud user";
    extraGroups = [ "wheel" ];
  };
  security.sudo.wheelNeedsPassword = false;

  services.openssh = {
    enable = true;
    settings = {
      PermitRootLogin = "no";
      PasswordAuthentication = false;
      KbdInteractiveAuthentication = false;
    };
  };

  # cloud-init installs the instance's key for this user (in ~/.ssh/authorized_keys, which sshd reads:
  # services.openssh.authorizedKeysInHomedir defaults to true) and, with disable_root, not for root.
  services.cloud-init.settings = {
    users = [ "default" ];
    disable_root = true;
    system_info.default_user = {
      name = user;
      lock_passwd = true;
      gecos = "Default cloud user";
    };
  };
}
