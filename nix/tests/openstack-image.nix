# nix-build nix/tests/openstack-image.nix
#
# Boots the image as OpenStack would (a raw disk, a config drive carrying an SSH key, no metadata
# service) under nixpkgs' NixOS test driver, as nixpkgs' nixos/tests/openstack-image.nix does with its
# own image, and checks: the user `nixos` logs in with the key and `sudo -n true` works; root and
# password logins are refused; the root file system grew to the disk; /etc/nixos is root's and writable;
# cloud-init kept the host key that was printed to the console; the channel download did not hold up
# the boot; root's channel is the image's from the first boot; a uefi or hybrid image's ESP has its
# 512 MiB; `nixos-rebuild dry-build` evaluates /etc/nixos; and GRUB reinstalls on the disk's bus
# (as `nixos-rebuild switch` does when GRUB changes) and boots again.
#
# Needs KVM (or a lot of time) and the image's closure, so it is not run by `npm test`; see README.md.
{
  # As nix/default.nix: null = the pin.
  nixpkgs ? null,
  # As nix/default.nix.
  system ? builtins.currentSystem,
  # As nix/default.nix.
  bootMode ? null,
  # As nix/default.nix. false: the release's kernel, which the binary cache is likelier to have.
  kernelLatest ? false,
  # How the disk is attached: "virtio" (virtio-blk, /dev/vda), "scsi" (virtio-scsi, /dev/sda) or
  # "nvme" (/dev/nvme0n1).
  diskInterface ? "virtio",
  # The firmware that boots it: "bios" or "uefi" (a hybrid image boots with either; the others only
  # with their own); null = the boot mode's ("bios" for hybrid).
  firmware ? null,
}:
let
  settings = import ./vm-settings.nix {
    inherit
      system
      bootMode
      diskInterface
      firmware
      ;
  };
  inherit (settings) mode;
  boot = settings.firmware;
  args = import ../args.nix;
  src = args.resolveNixpkgs nixpkgs;
  pkgs = import src { inherit system; };
  inherit (pkgs) lib;

  image = import ../default.nix {
    inherit
      nixpkgs
      system
      bootMode
      kernelLatest
      ;
    # A channel no instance could reach (the test has no network), and not nixpkgs' default
    # (nixos-unstable), so the test sees which of the two root is subscribed to.
    channel = "https://channels.invalid/nixos-cloud-image-test";
    extraModules = [ ./instrumentation.nix ];
  };

  # nixpkgs' snake-oil test key pair.
  keys = import (src + "/nixos/tests/ssh-keys.nix") pkgs;
  privateKey = pkgs.writeText "id_ed25519" keys.snakeOilPrivateKey.text;

  # An OpenStack config drive: an ISO 9660 file system labelled config-2 with the metadata cloud-init's
  # ConfigDrive datasource reads.
  configDrive = pkgs.runCommand "config-drive" { nativeBuildInputs = [ pkgs.cdrkit ]; } ''
    mkdir -p root/openstack/latest
    cat > root/openstack/latest/meta_data.json <<JSON
    ${builtins.toJSON {
      uuid = "00000000-0000-4000-8000-000000000001";
      name = "test";
      hostname = "test";
      public_keys.test = keys.snakeOilPublicKey;
    }}
    JSON
    genisoimage -quiet -volid config-2 -joliet -rock -o $out root
  '';

  # The test driver's QEMU command line for this system (nixpkgs nixos/lib/qemu-common.nix, whose
  # arguments grew `lib` over the releases). UEFI on x86_64 runs on q35, as Glance's
  # hw_machine_type=q35 asks Nova to.
  qemuCommon = import (src + "/nixos/lib/qemu-common.nix");
  qemu =
    (qemuCommon (builtins.intersectAttrs (builtins.functionArgs qemuCommon) { inherit lib pkgs; })).qemuBinary
      pkgs.qemu_test
    + lib.optionalString (boot == "uefi" && system == "x86_64-linux") " -machine q35";
  # make-disk-image's firmware files (its efiFirmware and efiVariables defaults).
  ovmfCode = pkgs.OVMF.fd.firmware;
  ovmfVars = pkgs.OVMF.fd.variables;

  disk =
    {
      virtio = "-drive file=$disk,if=virtio,werror=report";
      scsi = "-device virtio-scsi-pci,id=scsi0 -drive file=$disk,if=none,id=root,werror=report -device scsi-hd,drive=root,bus=scsi0.0";
      nvme = "-drive file=$disk,if=none,id=root,werror=report -device nvme,serial=root,drive=root";
    }
    .${diskInterface};

  # UEFI: the firmware read-only, its variables in a writable copy.
  firmwareOptions = lib.optionalString (boot == "uefi") (
    "-drive if=pflash,format=raw,unit=0,readonly=on,file=${ovmfCode}"
    + " -drive if=pflash,format=raw,unit=1,file=$vars"
  );
in
# The settings' checks, before anything of nixpkgs is imported.
assert builtins.isAttrs settings;
(import (src + "/nixos/lib/testing-python.nix") { inherit system pkgs; }).makeTest {
  name = "nixos-cloud-image-${mode}-${boot}-${diskInterface}";
  nodes = { };
  testScript = ''
    import os
    import subprocess
    import tempfile

    ${settings.imageDir}
    disk = os.path.join(image_dir, "disk.qcow2")
    vars = os.path.join(image_dir, "efi-vars.fd")
    # A copy-on-write overlay, larger than the image: the root file system must grow to it.
    subprocess.check_call(["qemu-img", "create", "-f", "qcow2", "-F", "raw", "-b", "${image}/nixos.img", disk, "8G"])
    ${lib.optionalString (boot == "uefi") ''
      subprocess.check_call(["install", "-m", "644", "${ovmfVars}", vars])
    ''}

    start_command = (
        "${qemu} -m ${toString settings.memory}"
        + " -nic user,model=virtio-net-pci"
        + " ${lib.replaceStrings [ "$disk" ] [ "{disk}" ] disk}".format(disk=disk)
        + " ${lib.replaceStrings [ "$vars" ] [ "{vars}" ] firmwareOptions}".format(vars=vars)
        + " -drive file=${configDrive},media=cdrom,readonly=on"
        + " -virtfs local,path=${src},security_model=none,readonly=on,mount_tag=nixpkgs"
    )
    machine = create_machine(start_command)

    try:
        machine.start()
        machine.wait_for_unit("multi-user.target")
        machine.wait_for_unit("cloud-final.service")
        machine.wait_for_unit("sshd.service")

        with subtest("boot does not wait for the channel download: a timer starts it"):
            machine.succeed("systemctl is-active nixos-cloud-image-channel.timer")
            wanted = machine.succeed("systemctl show -p WantedBy -p RequiredBy nixos-cloud-image-channel.service")
            assert "multi-user.target" not in wanted, wanted

        with subtest("cloud-init read the config drive"):
            status = machine.succeed("cloud-init status --long || true")
            assert "ConfigDrive" in status, status

        # Negative check first: without the key on the client, nixos is refused.
        machine.fail("ssh -o BatchMode=yes -o StrictHostKeyChecking=no nixos@localhost true")
        machine.copy_from_host_via_shell("${privateKey}", "/root/id")
        machine.succeed("chmod 600 /root/id")

        with subtest("the host key printed to the console is the one sshd serves"):
            machine.wait_for_console_text("-----END SSH HOST KEY KEYS-----")
            printed = machine.succeed("journalctl -b -o cat -u nixos-cloud-image-host-keys.service")
            served = machine.succeed("cat /etc/ssh/ssh_host_ed25519_key.pub").strip()
            assert served in printed, f"{served!r} not in {printed!r}"
            machine.succeed("echo localhost $(cut -d' ' -f1-2 /etc/ssh/ssh_host_ed25519_key.pub) > /root/known_hosts")

        ssh = "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=/root/known_hosts -i /root/id"

        with subtest("nixos logs in with the key, and sudo -n works"):
            machine.succeed(f"{ssh} nixos@localhost true")
            machine.succeed(f"{ssh} nixos@localhost sudo -n true")

        with subtest("root and password logins are refused"):
            machine.fail(f"{ssh} root@localhost true")
            refused = machine.fail(
                f"{ssh} -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive"
                + " nixos@localhost true 2>&1"
            )
            assert "Permission denied (publickey)" in refused, refused

        with subtest("the root file system grew to the disk"):
            size = int(machine.succeed("df --block-size=1M --output=size / | tail -n 1"))
            assert size > 7 * 1024, f"/ is {size} MiB on an 8 GiB disk"

        with subtest("root's channel is the image's from the first boot, before the subscription runs"):
            channels = machine.succeed("cat /root/.nix-channels").splitlines()
            assert "${image.imageInfo.channel} nixos" in channels, channels

        if "${mode}" != "bios":
            with subtest("the ESP, where GRUB copies the kernels, has room for the configurations it keeps"):
                esp = int(machine.succeed("df --block-size=1M --output=size /boot | tail -n 1"))
                assert esp > 450, f"the ESP is {esp} MiB"

        with subtest("/etc/nixos is root's and writable"):
            machine.succeed("test \"$(stat -c %U:%a /etc/nixos/configuration.nix)\" = root:644")
            machine.succeed("test \"$(stat -c %U:%a /etc/nixos/image-settings.nix)\" = root:644")

        with subtest("nixos-rebuild dry-build evaluates /etc/nixos"):
            machine.succeed("mkdir -p /mnt/nixpkgs")
            machine.succeed("mount -t 9p -o trans=virtio,version=9p2000.L,ro nixpkgs /mnt/nixpkgs")
            machine.succeed("nixos-rebuild dry-build --fast -I nixpkgs=/mnt/nixpkgs --option substituters ''' 2>&1")

        with subtest("GRUB reinstalls on this disk bus and boots again"):
            machine.succeed("NIXOS_INSTALL_BOOTLOADER=1 /run/current-system/bin/switch-to-configuration boot")
            machine.shutdown()
            machine.start()
            machine.wait_for_unit("multi-user.target")
            machine.succeed(f"{ssh} nixos@localhost true")
    finally:
        machine.shutdown()
  '';
}
