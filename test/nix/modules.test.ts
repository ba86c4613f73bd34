import assert from "node:assert/strict";
import { NIX_DIR, nixEval, nixString } from "../support/nix.ts";

/**
 * nix/boot.nix and nix/cloud.nix, the NixOS modules the image ships, called as the module system calls
 * them but with a stand-in `lib` that has the few functions they use, as nixpkgs defines them: what
 * they set can be read here without nixpkgs. (With NIXPKGS_PATH, test/nix/nixpkgs.test.ts evaluates
 * them for real.)
 */
const LIB = `rec {
  mkOption = attrs: { _type = "option"; } // attrs;
  isOption = v: (v._type or "") == "option";
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkDefault = mkOverride 1000;
  types = { bool = { name = "bool"; }; str = { name = "str"; }; enum = values: { name = "enum"; }; };
}`;

/** boot.nix's config for a boot mode, on aarch64 or x86_64. */
async function bootConfig(bootMode: string, aarch64: boolean): Promise<Record<string, any>> {
  return (await nixEval(`
    let m = import ${nixString(`${NIX_DIR}/boot.nix`)} {
      config.nixosCloudImage.bootMode = ${nixString(bootMode)};
      lib = ${LIB};
      pkgs = { stdenv.hostPlatform.isAarch64 = ${aarch64}; util-linux = "/util-linux"; };
    };
    in { inherit (m.config.boot.loader.grub) configurationLimit extraConfig; }`)) as Record<string, any>;
}

/** cloud.nix's config, with `boot.growPartition` declared as `growPartition` (a Nix expression). */
async function cloudConfig(growPartition: string): Promise<Record<string, any>> {
  return (await nixEval(`
    let
      lib = ${LIB};
      m = import ${nixString(`${NIX_DIR}/cloud.nix`)} {
        config.nixosCloudImage = { channel = "https://nixos.org/channels/nixos-25.11"; kernelLatest = true; };
        options.boot.growPartition = ${growPartition};
        inherit lib;
        pkgs = { };
        modulesPath = "/modules";
      };
    in { inherit (m.config.system) defaultChannel; inherit (m.config.boot) growPartition; }`)) as Record<
    string,
    any
  >;
}

describe("The image's NixOS modules, with a stand-in lib", () => {
  describe("nix/boot.nix", () => {
    it("keeps only as many configurations in GRUB's menu as the ESP holds, where the ESP is /boot.", async () => {
      const limit = (c: Record<string, any>) => ({
        when: c.configurationLimit.condition,
        value: c.configurationLimit.content.content,
        priority: c.configurationLimit.content.priority,
      });
      assert.deepEqual(limit(await bootConfig("uefi", false)), { when: true, value: 8, priority: 1000 });
      assert.deepEqual(limit(await bootConfig("hybrid", false)), { when: true, value: 8, priority: 1000 });
      // An aarch64 kernel is an uncompressed Image, several times larger.
      assert.deepEqual(limit(await bootConfig("uefi", true)), { when: true, value: 4, priority: 1000 });
      // BIOS: /boot is on the root file system, GRUB reads kernels from the store, nothing is copied.
      assert.equal((await bootConfig("bios", false)).configurationLimit.condition, false);
    });

    it("puts GRUB's menu on the console and the serial port in every boot mode on x86_64, and on the UEFI console on aarch64.", async () => {
      for (const mode of ["bios", "uefi", "hybrid"]) {
        const { extraConfig } = await bootConfig(mode, false);
        assert.match(extraConfig, /^serial --unit=0 --speed=115200 /m, mode);
        assert.match(extraConfig, /^terminal_input console serial$/m, mode);
        assert.match(extraConfig, /^terminal_output console serial$/m, mode);
      }
      const { extraConfig } = await bootConfig("uefi", true);
      assert.doesNotMatch(extraConfig, /serial/);
      assert.match(extraConfig, /^terminal_output console$/m);
    });
  });

  describe("nix/cloud.nix", () => {
    it("names the image's channel in /root/.nix-channels from the first boot (system.defaultChannel).", async () => {
      const c = await cloudConfig("lib.mkOption { type = lib.types.bool; default = false; }");
      assert.equal(c.defaultChannel, "https://nixos.org/channels/nixos-25.11");
    });

    it("turns on boot.growPartition as a boolean today and as a set with enable if nixpkgs makes it one.", async () => {
      const asBool = await cloudConfig("lib.mkOption { type = lib.types.bool; default = false; }");
      assert.equal(asBool.growPartition, true);
      const asOptions = await cloudConfig(
        "{ enable = lib.mkOption { type = lib.types.bool; }; mountPoint = lib.mkOption { type = lib.types.str; }; }",
      );
      assert.deepEqual(asOptions.growPartition, { enable: true });
      const asSubmodule = await cloudConfig('lib.mkOption { type = { name = "submodule"; }; }');
      assert.deepEqual(asSubmodule.growPartition, { enable: true });
    });
  });
});
