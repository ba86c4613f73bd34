import assert from "node:assert/strict";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { NIX_DIR, nixEval, nixString } from "../support/nix.ts";

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
  kernelParams: string[];
  grubDevices: string[];
  stateVersion: string;
  etcNixos: { source: string; target: string }[];
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
      kernelParams = c.boot.kernelParams;
      grubDevices = c.boot.loader.grub.devices;
      stateVersion = c.system.stateVersion;
      etcNixos = map (e: { source = toString e.source; inherit (e) target; }) image.etcNixos;
    }`,
    { writeStore: true },
  )) as Facts;
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
    assert.equal(f.imageInfo.diskSize, 1024);
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
      assert.deepEqual([...f.cloudInit.settings.datasource_list].sort(), ["ConfigDrive", "OpenStack"]);
    },
  );

  each("grows an ext4 root on /dev/vda and logs to the serial console.", (f) => {
    assert.deepEqual(f.rootFs, { device: "/dev/disk/by-label/nixos", fsType: "ext4", autoResize: true });
    assert.equal(f.growPartition, true);
    assert.ok(f.kernelParams.some((p) => p.startsWith("console=ttyS0")));
    assert.deepEqual(f.grubDevices, ["/dev/vda"]);
  });

  each("ships configuration.nix, cloud.nix, image-settings.nix and the extra module to /etc/nixos.", (f) => {
    assert.deepEqual(f.etcNixos.map((e) => e.target).sort(), [
      "/etc/nixos/cloud.nix",
      "/etc/nixos/configuration.nix",
      "/etc/nixos/extra/0-site.nix",
      "/etc/nixos/image-settings.nix",
    ]);
  });

  each(
    "ships an /etc/nixos that evaluates to the very system the image holds, kernel choice included.",
    async (f) => {
      assert.equal(await shippedToplevel(f.etcNixos), f.toplevel);
    },
  );
});
