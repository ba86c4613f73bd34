import assert from "node:assert/strict";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { NIX_DIR, nixEval, nixEvalError, nixString } from "../support/nix.ts";

/**
 * A full evaluation of nix/ against a real nixpkgs checkout (any NixOS 24.11 to unstable tree):
 * NIXPKGS_PATH=/path/to/nixpkgs npm test. Nothing is built; only derivations are instantiated.
 */
const NIXPKGS_PATH = process.env.NIXPKGS_PATH;

/** The agents nixpkgs' openstack-config.nix, ec2-data.nix and amazon-init.nix add. */
const OTHER_AGENTS = ["openstack-init", "fetch-ec2-metadata", "apply-ec2-data", "amazon-init"];

interface Facts {
  drvPath: string;
  toplevel: string;
  imageInfo: Record<string, unknown>;
  kernelPackagesIsLatest: boolean;
  user: { isNormalUser: boolean; extraGroups: string[] };
  wheelNeedsPassword: boolean;
  ssh: {
    enable: boolean;
    PermitRootLogin: string;
    PasswordAuthentication: boolean;
    KbdInteractiveAuthentication: boolean;
  };
  cloudInit: { enable: boolean; settings: Record<string, any> };
  enabledAgents: string[];
  rootFs: { device: string; fsType: string; autoResize: boolean };
  growPartition: boolean;
  defaultChannel: string;
  kernelParams: string[];
  grubDevices: string[];
  stateVersion: string;
  etcNixos: { source: string; target: string }[];
  diskImageArgNames: string[];
  makeDiskImageArgs: Record<string, boolean>;
  hostKeysUnit: { after: string[]; StandardOutput: string };
  channelUnit: { wantedBy: string[]; timerWantedBy: string[] };
  bootDiskUnit: boolean;
  initrdModules: string[];
}

/** What the boot mode decides, for one system and boot mode. */
interface BootFacts {
  imageInfo: Record<string, unknown>;
  partitionTableType: string;
  grub: {
    device: string;
    efiSupport: boolean;
    efiInstallAsRemovable: boolean;
    configurationLimit: number;
    extraConfig: string;
  };
  bootFs: { device: string; fsType: string } | null;
  bootDiskUnit: boolean;
  kernelParams: string[];
}

/** Everything the tests look at, from one evaluation per kernelLatest value. */
async function facts(kernelLatest: boolean, extraModule: string): Promise<Facts> {
  return (await nixEval(
    `
    let
      image = import ${nixString(NIX_DIR)} {
        nixpkgs = ${nixString(NIXPKGS_PATH!)};
        kernelLatest = ${kernelLatest};
        system = "x86_64-linux";
        # A checkout or GitHub tarball cannot tell its channel (nix/channel.nix).
        channel = "nixos-unstable";
        extraModules = [ (/. + ${nixString(extraModule)}) ];
      };
      c = image.config;
      pkgs = image.config._module.args.pkgs;
    in {
      inherit (image) drvPath;
      toplevel = c.system.build.toplevel.drvPath;
      imageInfo = image.imageInfo;
      kernelPackagesIsLatest = c.boot.kernelPackages.kernel.version == pkgs.linuxPackages_latest.kernel.version;
      user = { inherit (c.users.users.nixos) isNormalUser extraGroups; };
      wheelNeedsPassword = c.security.sudo.wheelNeedsPassword;
      ssh = {
        inherit (c.services.openssh) enable;
        inherit (c.services.openssh.settings) PermitRootLogin PasswordAuthentication KbdInteractiveAuthentication;
      };
      cloudInit = { inherit (c.services.cloud-init) enable settings; };
      enabledAgents = builtins.filter (name: c.systemd.services ? \${name} && c.systemd.services.\${name}.enable)
        ${`[ ${OTHER_AGENTS.map((name) => nixString(name)).join(" ")} ]`};
      rootFs = { inherit (c.fileSystems."/") device fsType autoResize; };
      growPartition = c.boot.growPartition;
      defaultChannel = c.system.defaultChannel;
      kernelParams = c.boot.kernelParams;
      grubDevices = c.boot.loader.grub.devices;
      stateVersion = c.system.stateVersion;
      etcNixos = map (e: { source = toString e.source; inherit (e) target; }) image.etcNixos;
      diskImageArgNames = builtins.attrNames image.diskImageArgs;
      makeDiskImageArgs = builtins.functionArgs (import ${nixString(`${NIXPKGS_PATH}/nixos/lib/make-disk-image.nix`)});
      hostKeysUnit = {
        inherit (c.systemd.services.nixos-cloud-image-host-keys) after;
        inherit (c.systemd.services.nixos-cloud-image-host-keys.serviceConfig) StandardOutput;
      };
      channelUnit = {
        inherit (c.systemd.services.nixos-cloud-image-channel) wantedBy;
        timerWantedBy = c.systemd.timers.nixos-cloud-image-channel.wantedBy;
      };
      bootDiskUnit = c.systemd.services ? nixos-cloud-image-boot-disk;
      initrdModules = c.boot.initrd.availableKernelModules;
    }`,
    { writeStore: true },
  )) as Facts;
}

/** The boot-related facts of an image for a system and boot mode (null: the system's default). */
async function bootFacts(system: string, bootMode: string | null): Promise<BootFacts> {
  return (await nixEval(`
    let
      image = import ${nixString(NIX_DIR)} {
        nixpkgs = ${nixString(NIXPKGS_PATH!)};
        system = ${nixString(system)};
        bootMode = ${bootMode === null ? "null" : nixString(bootMode)};
        channel = "nixos-unstable";
        kernelLatest = false;
      };
      c = image.config;
    in {
      imageInfo = builtins.removeAttrs image.imageInfo [ "file" ];
      inherit (image.diskImageArgs) partitionTableType;
      grub = { inherit (c.boot.loader.grub) device efiSupport efiInstallAsRemovable configurationLimit extraConfig; };
      bootFs = if c.fileSystems ? "/boot" then { inherit (c.fileSystems."/boot") device fsType; } else null;
      bootDiskUnit = c.systemd.services ? nixos-cloud-image-boot-disk;
      kernelParams = c.boot.kernelParams;
    }`)) as BootFacts;
}

/** The toplevel derivation of the configuration shipped in /etc/nixos, evaluated as nixos-rebuild would. */
async function shippedToplevel(etcNixos: Facts["etcNixos"]): Promise<string> {
  const root = mkdtempSync(path.join(tmpdir(), "etc-nixos-"));
  try {
    for (const { source, target } of etcNixos) {
      const dest = path.join(root, target);
      mkdirSync(path.dirname(dest), { recursive: true });
      if (statSync(source).isDirectory()) cpSync(source, dest, { recursive: true });
      else copyFileSync(source, dest);
    }
    return (await nixEval(`
      (import ${nixString(`${NIXPKGS_PATH}/nixos/lib/eval-config.nix`)} {
        system = "x86_64-linux";
        modules = [ (/. + ${nixString(`${root}/etc/nixos/configuration.nix`)}) ];
      }).config.system.build.toplevel.drvPath`)) as string;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe("nix/ against a real nixpkgs (NIXPKGS_PATH)", function () {
  this.timeout(900_000);
  const byKernel = new Map<boolean, Facts>();
  let moduleDir: string;

  before(async function () {
    if (!NIXPKGS_PATH) return this.skip();
    moduleDir = mkdtempSync(path.join(tmpdir(), "extra-module-"));
    writeFileSync(
      path.join(moduleDir, "site.nix"),
      '{ environment.etc."nixos-cloud-image-test".text = "extra module"; }\n',
    );
    for (const kernelLatest of [true, false])
      byKernel.set(kernelLatest, await facts(kernelLatest, path.join(moduleDir, "site.nix")));
  });
  after(() => moduleDir && rmSync(moduleDir, { recursive: true, force: true }));

  /** A test run on the facts of both kernelLatest values. */
  const each = (name: string, check: (f: Facts, kernelLatest: boolean) => void | Promise<void>) =>
    it(name, async () => {
      for (const [kernelLatest, f] of byKernel) await check(f, kernelLatest);
    });

  it("instantiates the image for both kernelLatest values, as two derivations.", () => {
    const [latest, lts] = [byKernel.get(true)!, byKernel.get(false)!];
    assert.match(latest.drvPath, /^\/nix\/store\/[0-9a-z]{32}-nixos-openstack-image-.*\.drv$/);
    assert.notEqual(latest.drvPath, lts.drvPath);
    assert.equal(latest.kernelPackagesIsLatest, true);
  });

  each("describes the image in image-info.json with the contract's fields.", (f) => {
    assert.match(String(f.imageInfo.file), /\/nixos\.img$/);
    assert.equal(f.imageInfo.format, "raw");
    // As requested: the build replaces "auto" with the size it wrote.
    assert.equal(f.imageInfo.diskSize, "auto");
    assert.equal(f.imageInfo.channel, "https://nixos.org/channels/nixos-unstable");
    // What /root/.nix-channels names from the first boot.
    assert.equal(f.defaultChannel, f.imageInfo.channel);
    assert.equal(f.imageInfo.system, "x86_64-linux");
    assert.equal(f.imageInfo.qemuGuestAgent, true);
    assert.equal(f.imageInfo.bootMode, "bios");
    assert.match(String(f.imageInfo.nixosRelease), /^\d\d\.\d\d$/);
    assert.ok(String(f.imageInfo.nixosVersion).startsWith(String(f.imageInfo.nixosRelease)));
    assert.match(String(f.imageInfo.kernelVersion), /^\d+\.\d+/);
    assert.equal(f.stateVersion, f.imageInfo.nixosRelease);
  });

  each("has the user nixos in wheel, with passwordless sudo.", (f) => {
    assert.equal(f.user.isNormalUser, true);
    assert.ok(f.user.extraGroups.includes("wheel"));
    assert.equal(f.wheelNeedsPassword, false);
  });

  each("runs sshd without root login, passwords or keyboard-interactive authentication.", (f) => {
    assert.deepEqual(f.ssh, {
      enable: true,
      PermitRootLogin: "no",
      PasswordAuthentication: false,
      KbdInteractiveAuthentication: false,
    });
  });

  each(
    "runs exactly one metadata agent, cloud-init, for nixos and not root, from config drive or metadata service.",
    (f) => {
      assert.equal(f.cloudInit.enable, true);
      assert.deepEqual(f.enabledAgents, []);
      assert.equal(f.cloudInit.settings.system_info.default_user.name, "nixos");
      assert.equal(f.cloudInit.settings.system_info.distro, "nixos");
      assert.equal(f.cloudInit.settings.disable_root, true);
      assert.deepEqual(f.cloudInit.settings.datasource_list, ["ConfigDrive", "OpenStack", "None"]);
      assert.equal(f.cloudInit.settings.ssh_deletekeys, false);
      assert.deepEqual(f.cloudInit.settings.ssh_genkeytypes, []);
    },
  );

  each("prints the host keys to the console once sshd has them.", (f) => {
    assert.ok(f.hostKeysUnit.after.includes("sshd.service"));
    assert.equal(f.hostKeysUnit.StandardOutput, "journal+console");
  });

  each("subscribes to the channel from a timer, so the boot does not wait for the download.", (f) => {
    assert.deepEqual(f.channelUnit.wantedBy, []);
    assert.deepEqual(f.channelUnit.timerWantedBy, ["timers.target"]);
  });

  each("passes make-disk-image.nix only arguments it takes.", (f) => {
    const unknown = f.diskImageArgNames.filter((name) => !(name in f.makeDiskImageArgs));
    assert.deepEqual(unknown, []);
  });

  each(
    "grows an ext4 root, installs GRUB on whichever disk holds it, and logs to the serial console.",
    (f) => {
      assert.deepEqual(f.rootFs, { device: "/dev/disk/by-label/nixos", fsType: "ext4", autoResize: true });
      assert.equal(f.growPartition, true);
      assert.ok(f.kernelParams.some((p) => p.startsWith("console=ttyS0")));
      assert.deepEqual(f.grubDevices, ["/dev/disk/nixos-cloud-image/boot-disk"]);
      assert.equal(f.bootDiskUnit, true);
      for (const driver of ["virtio_blk", "virtio_scsi", "sd_mod", "nvme"])
        assert.ok(f.initrdModules.includes(driver));
    },
  );

  it("boots with BIOS, UEFI or both on x86_64, and with UEFI on aarch64.", async () => {
    const cases: [string, string | null, string, Partial<BootFacts["grub"]>, boolean][] = [
      ["x86_64-linux", null, "legacy", { efiSupport: false }, false],
      [
        "x86_64-linux",
        "uefi",
        "efi",
        { device: "nodev", efiSupport: true, efiInstallAsRemovable: true },
        true,
      ],
      ["x86_64-linux", "hybrid", "hybrid", { efiSupport: true, efiInstallAsRemovable: true }, true],
      [
        "aarch64-linux",
        null,
        "efi",
        { device: "nodev", efiSupport: true, efiInstallAsRemovable: true },
        true,
      ],
    ];
    for (const [system, bootMode, layout, grub, esp] of cases) {
      const f = await bootFacts(system, bootMode);
      const what = `${system} ${bootMode}`;
      assert.equal(f.partitionTableType, layout, what);
      assert.equal(f.imageInfo.system, system, what);
      assert.equal(f.imageInfo.bootMode, bootMode ?? (system === "aarch64-linux" ? "uefi" : "bios"), what);
      for (const [key, value] of Object.entries(grub))
        assert.equal((f.grub as any)[key], value, `${what} ${key}`);
      assert.deepEqual(f.bootFs, esp ? { device: "/dev/disk/by-label/ESP", fsType: "vfat" } : null, what);
      assert.equal(f.bootDiskUnit, f.grub.device !== "nodev", what);
      if (system === "aarch64-linux") assert.ok(f.kernelParams.includes("console=ttyAMA0,115200n8"), what);
      // The ESP holds a copy of each kernel the menu offers; nixpkgs' default is 100.
      assert.equal(f.grub.configurationLimit, esp ? (system === "aarch64-linux" ? 4 : 8) : 100, what);
      if (system === "x86_64-linux")
        assert.match(f.grub.extraConfig, /^terminal_output console serial$/m, what);
    }
  });

  it("asks for the channel when the tree cannot tell it, and derives it when it can.", async () => {
    const suffix = (await nixEval(
      `(import ${nixString(`${NIXPKGS_PATH}/lib`)}).trivial.versionSuffix`,
    )) as string;
    const expr = `(import ${nixString(NIX_DIR)} { nixpkgs = ${nixString(NIXPKGS_PATH!)}; system = "x86_64-linux"; }).imageInfo.channel`;
    if (suffix === "pre-git") {
      assert.match(await nixEvalError(expr), /The "channel" argument must be given for this nixpkgs/);
    } else {
      assert.match(
        String(await nixEval(expr)),
        /^https:\/\/nixos\.org\/channels\/nixos-(unstable|\d\d\.\d\d)$/,
      );
    }
  });

  each(
    "ships configuration.nix, what it imports, image-settings.nix and the extra module to /etc/nixos.",
    (f) => {
      assert.deepEqual(f.etcNixos.map((e) => e.target).sort(), [
        "/etc/nixos/boot.nix",
        "/etc/nixos/cloud-init-settings.nix",
        "/etc/nixos/cloud.nix",
        "/etc/nixos/configuration.nix",
        "/etc/nixos/extra/0-site.nix",
        "/etc/nixos/image-settings.nix",
      ]);
    },
  );

  each(
    "ships an /etc/nixos that evaluates to the very system the image holds, kernel choice included.",
    async (f) => {
      assert.equal(await shippedToplevel(f.etcNixos), f.toplevel);
    },
  );
});
