import assert from "node:assert/strict";
import { NIX_DIR, instantiate, nixEval, nixString } from "../support/nix.ts";

/**
 * nix/tests/openstack-image.nix, the NixOS VM test users run (README.md). Booting it needs the image's
 * closure and KVM; here it is parsed (test/nix/parse.test.ts), its arguments are checked, and with
 * NIXPKGS_PATH it is instantiated for each disk bus and firmware.
 */
const VM_TEST = `${NIX_DIR}/tests/openstack-image.nix`;
const NIXPKGS_PATH = process.env.NIXPKGS_PATH;

describe("The NixOS VM test (nix/tests/openstack-image.nix)", () => {
  it("takes the image's arguments, a disk bus and a firmware, each with a default.", async () => {
    const args = await nixEval(`builtins.functionArgs (import ${nixString(VM_TEST)})`);
    assert.deepEqual(args, {
      nixpkgs: true,
      system: true,
      bootMode: true,
      kernelLatest: true,
      diskInterface: true,
      firmware: true,
    });
  });

  describe("against a real nixpkgs (NIXPKGS_PATH)", function () {
    this.timeout(900_000);
    before(function () {
      if (!NIXPKGS_PATH) this.skip();
    });

    const variants: Record<string, string | null>[] = [
      { bootMode: null, diskInterface: "virtio", firmware: null },
      { bootMode: "uefi", diskInterface: "nvme", firmware: null },
      { bootMode: "hybrid", diskInterface: "scsi", firmware: "uefi" },
      { bootMode: "hybrid", diskInterface: "virtio", firmware: "bios" },
    ];
    for (const variant of variants) {
      it(`instantiates for ${JSON.stringify(variant)}.`, async () => {
        const result = await instantiate(VM_TEST, {
          nixpkgs: NIXPKGS_PATH!,
          system: "x86_64-linux",
          ...variant,
        });
        assert.equal(result.exitCode, 0, result.stderr);
        assert.match(
          result.stdout.trim(),
          /^\/nix\/store\/[0-9a-z]{32}-vm-test-run-nixos-cloud-image-.*\.drv$/m,
        );
      });
    }

    it("refuses UEFI-only images on BIOS firmware.", async () => {
      const result = await instantiate(VM_TEST, {
        nixpkgs: NIXPKGS_PATH!,
        bootMode: "uefi",
        firmware: "bios",
      });
      assert.match(result.stderr, /A bootMode "uefi" image needs firmware "uefi"/);
    });
  });
});
