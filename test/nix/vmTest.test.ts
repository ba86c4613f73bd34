import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { NIX_DIR, instantiate, nixEval, nixString } from "../support/nix.ts";

/**
 * nix/tests/openstack-image.nix, the NixOS VM test users run (README.md). Booting it needs the image's
 * closure and KVM; here it is parsed (test/nix/parse.test.ts), its arguments and what it decides
 * before nixpkgs (nix/tests/vm-settings.nix) are checked, and with NIXPKGS_PATH it is instantiated
 * for each disk bus and firmware.
 */
const VM_TEST = `${NIX_DIR}/tests/openstack-image.nix`;
const VM_SETTINGS = `${NIX_DIR}/tests/vm-settings.nix`;
const NIXPKGS_PATH = process.env.NIXPKGS_PATH;

/** A nixpkgs tree whose every file the VM test imports throws: reaching it means every check passed. */
function stubNixpkgs(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "stub-nixpkgs-"));
  for (const file of [
    "default.nix",
    "lib/default.nix",
    "nixos/lib/eval-config.nix",
    "nixos/lib/make-disk-image.nix",
    "nixos/lib/testing-python.nix",
  ]) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), 'throw "stub nixpkgs imported"\n');
  }
  return dir;
}

/** The test's Python that makes its disk's directory, run as the driver would (TMPDIR and all). */
function runImageDir(code: string, env: Record<string, string>): { imageDir: string; survived: boolean } {
  // After the test's code, what the driver does when the test creates its machine: the machine
  // made from a bare start command is named "machine", and its state directory
  // <XDG_RUNTIME_DIR or the temporary directory>/vm-state-machine is removed and made anew.
  const script = `
import os, shutil, tempfile
${code}
with open(os.path.join(image_dir, "disk.qcow2"), "w") as f:
    f.write("disk")
state_dir = os.path.join(os.environ.get("XDG_RUNTIME_DIR", tempfile.gettempdir()), "vm-state-machine")
if os.path.exists(state_dir):
    shutil.rmtree(state_dir)
os.makedirs(state_dir, mode=0o700)
print(image_dir)
print(os.path.exists(os.path.join(image_dir, "disk.qcow2")))
`;
  const result = spawnSync("python3", ["-c", script], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env },
    encoding: "utf8",
  });
  assert.equal(result.status, 0, result.stderr);
  const [imageDir, survived] = result.stdout.trim().split("\n");
  return { imageDir, survived: survived === "True" };
}

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

  describe("before nixpkgs is imported", () => {
    let stub: string;
    before(() => {
      stub = stubNixpkgs();
    });
    after(() => rmSync(stub, { recursive: true, force: true }));

    const refused: [string, Record<string, string>, string][] = [
      [
        "a UEFI-only image on BIOS firmware",
        { bootMode: "uefi", firmware: "bios" },
        'A bootMode "uefi" image needs firmware "uefi"; received firmware "bios".',
      ],
      [
        "a BIOS-only image on UEFI firmware, which could only time out",
        { firmware: "uefi" },
        'A bootMode "bios" image needs firmware "bios"; received firmware "uefi".',
      ],
      [
        "an unknown disk bus",
        { diskInterface: "ide" },
        'The "diskInterface" argument must be one of "virtio", "scsi", "nvme"; received "ide".',
      ],
      [
        "an unknown firmware",
        { bootMode: "hybrid", firmware: "efi" },
        'The "firmware" argument must be null (the boot mode\'s) or "bios" or "uefi"; received "efi".',
      ],
      ["BIOS on aarch64", { system: "aarch64-linux", bootMode: "bios" }, 'for system "aarch64-linux"'],
    ];
    for (const [what, args, message] of refused) {
      it(`refuses ${what}.`, async () => {
        const result = await instantiate(VM_TEST, { nixpkgs: stub, system: "x86_64-linux", ...args });
        assert.ok(result.stderr.includes(message), result.stderr);
        assert.doesNotMatch(result.stderr, /stub nixpkgs imported/);
      });
    }

    it("accepts each boot mode on its firmware, and hybrid on both.", async () => {
      const accepted: Record<string, string>[] = [
        {},
        { bootMode: "bios", firmware: "bios", diskInterface: "scsi" },
        { bootMode: "uefi", diskInterface: "nvme" },
        { bootMode: "hybrid", firmware: "uefi" },
        { bootMode: "hybrid", firmware: "bios" },
      ];
      for (const args of accepted) {
        const result = await instantiate(VM_TEST, { nixpkgs: stub, system: "x86_64-linux", ...args });
        assert.match(result.stderr, /stub nixpkgs imported/, JSON.stringify(args));
      }
      const firmwares = await nixEval(`map (a: (import ${nixString(VM_SETTINGS)} ({
          system = "x86_64-linux"; bootMode = null; diskInterface = "virtio"; firmware = null; } // a)).firmware)
        [ { } { bootMode = "uefi"; } { bootMode = "hybrid"; } { bootMode = "hybrid"; firmware = "uefi"; } ]`);
      assert.deepEqual(firmwares, ["bios", "uefi", "bios", "uefi"]);
    });
  });

  describe("the test script", () => {
    const source = readFileSync(VM_TEST, "utf8");
    let settings: { memory: number; imageDir: string };
    before(async () => {
      settings = (await nixEval(`builtins.removeAttrs (import ${nixString(VM_SETTINGS)} {
        system = "x86_64-linux"; bootMode = null; diskInterface = "virtio"; firmware = null;
      }) [ "mode" ]`)) as typeof settings;
    });

    it("keeps its disk where the test driver does not delete it when it creates the machine.", () => {
      assert.ok(source.includes("${settings.imageDir}"), "the test script makes its directory with imageDir");
      assert.ok(source.includes('disk = os.path.join(image_dir, "disk.qcow2")'));
      const root = mkdtempSync(path.join(tmpdir(), "vm-test-tmp-"));
      try {
        // As under nix-build (TMPDIR only), and as run by hand (with XDG_RUNTIME_DIR).
        const envs: Record<string, string>[] = [{ TMPDIR: root }, { TMPDIR: root, XDG_RUNTIME_DIR: root }];
        for (const env of envs) {
          const { imageDir, survived } = runImageDir(settings.imageDir, env);
          assert.ok(imageDir.startsWith(root + "/"), imageDir);
          assert.equal(survived, true, `${imageDir} was deleted with the machine's state`);
        }
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

    it("checks root's channel file against the image's channel, which is not nixpkgs' default.", () => {
      assert.ok(source.includes('assert "${image.imageInfo.channel} nixos" in channels'));
      const channel = /channel = "([^"]+)";/.exec(source)?.[1];
      assert.ok(channel && !channel.includes("nixos-unstable"), channel);
    });

    it("gives the guest room for nixos-rebuild dry-build, which panics it if memory runs out.", () => {
      assert.ok(settings.memory >= 3072, `${settings.memory} MiB`);
      assert.ok(source.includes('"${qemu} -m ${toString settings.memory}"'));
      assert.doesNotMatch(source, / -m \d/);
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

    it("refuses UEFI-only images on BIOS firmware, and BIOS-only images on UEFI firmware.", async () => {
      const uefiOnBios = await instantiate(VM_TEST, {
        nixpkgs: NIXPKGS_PATH!,
        bootMode: "uefi",
        firmware: "bios",
      });
      assert.match(uefiOnBios.stderr, /A bootMode "uefi" image needs firmware "uefi"/);
      const biosOnUefi = await instantiate(VM_TEST, { nixpkgs: NIXPKGS_PATH!, firmware: "uefi" });
      assert.match(biosOnUefi.stderr, /A bootMode "bios" image needs firmware "bios"/);
    });
  });
});
