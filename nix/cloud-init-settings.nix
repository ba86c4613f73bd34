# cloud-init's settings (services.cloud-init.settings) beyond who may log in (./configuration.nix):
# plain data, imported by ./cloud.nix and shipped with it, so tests can read it without nixpkgs.
{
  # ConfigDrive first: it needs no network. "None" last: when neither datasource answers, cloud-init
  # falls back to it instead of failing `cloud-init init`, and the config and final stages with it.
  datasource_list = [
    "ConfigDrive"
    "OpenStack"
    "None"
  ];
  # Restates the NixOS module's default, which any system_info definition (./configuration.nix sets
  # default_user) replaces as a whole.
  system_info = {
    distro = "nixos";
    network.renderers = [ "networkd" ];
  };
  # Networking stays NixOS's (DHCP on every interface): cloud-init writes no network configuration.
  network.config = "disabled";
  # The partition and file system are grown by NixOS (./cloud.nix), not by cloud-init.
  growpart.mode = "off";
  resize_rootfs = false;
  # The host name comes from the cloud (cloud-init's update_hostname, and DHCP).
  preserve_hostname = false;
  # Host keys: NixOS generates them once, before sshd first starts (services.openssh.hostKeys). cloud-init's
  # ssh module runs in its config stage (cloud-config.service), which nothing orders against sshd: it
  # may run after sshd has started serving those keys, and by default it deletes and regenerates them
  # (ssh_deletekeys), so the key could change under a client that had already connected. It neither
  # deletes nor generates any; ./cloud.nix prints the fingerprints to the console.
  ssh_deletekeys = false;
  ssh_genkeytypes = [ ];
}
