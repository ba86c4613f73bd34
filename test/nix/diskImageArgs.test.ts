import assert from "node:assert/strict";
import { MAKE_DISK_IMAGE_2411 } from "../support/makeDiskImage.ts";
import { NIX_DIR, nixEval, nixString } from "../support/nix.ts";

interface DiskImageArgs {
  names: string[];
  partitionTableType: string;
  diskSize: number | string;
  additionalSpace: string;
  bootSize: string;
  format: string;
  copyChannel: boolean;
  contents: { source: string; target: string; mode: string; user: string; group: string }[];
}

async function diskImageArgs(bootMode: string, diskSize: string): Promise<DiskImageArgs> {
  return (await nixEval(`
    let a = import ${nixString(`${NIX_DIR}/disk-image-args.nix`)} {
      diskSize = ${diskSize};
      bootMode = ${nixString(bootMode)};
      name = "test";
      etcNixos = [ { source = "/x/configuration.nix"; target = "/etc/nixos/configuration.nix"; } ];
      postVM = "";
    };
    in { names = builtins.attrNames a; inherit (a) partitionTableType diskSize additionalSpace bootSize format copyChannel contents; }`)) as DiskImageArgs;
}

describe("make-disk-image's arguments (nix/disk-image-args.nix)", () => {
  it("are all arguments make-disk-image.nix takes since NixOS 24.11 (no baseName).", async () => {
    const { names } = await diskImageArgs("bios", '"auto"');
    const unknown = names.filter((n) => !MAKE_DISK_IMAGE_2411.includes(n));
    assert.deepEqual(unknown, []);
    assert.ok(!names.includes("baseName"));
  });

  it("lay out the disk per boot mode: MBR for bios, GPT with an ESP for uefi, GPT with both for hybrid.", async () => {
    const layouts = await Promise.all(
      ["bios", "uefi", "hybrid"].map(async (m) => (await diskImageArgs(m, "2048")).partitionTableType),
    );
    assert.deepEqual(layouts, ["legacy", "efi", "hybrid"]);
  });

  it("end the ESP at 512 MiB, twice make-disk-image's default, for the kernels GRUB copies there.", async () => {
    for (const mode of ["uefi", "hybrid"])
      assert.equal((await diskImageArgs(mode, '"auto"')).bootSize, "512M");
  });

  it('pass diskSize through, "auto" with 1 GiB of headroom, as raw and without a bundled channel.', async () => {
    const auto = await diskImageArgs("bios", '"auto"');
    assert.equal(auto.diskSize, "auto");
    assert.equal(auto.additionalSpace, "1024M");
    assert.equal((await diskImageArgs("bios", "1024")).diskSize, 1024);
    assert.equal(auto.format, "raw");
    assert.equal(auto.copyChannel, false);
  });

  it("ship /etc/nixos owned by root and writable by it, not with the store's read-only modes.", async () => {
    const { contents, names } = await diskImageArgs("bios", '"auto"');
    assert.deepEqual(contents, [
      {
        source: "/x/configuration.nix",
        target: "/etc/nixos/configuration.nix",
        mode: "u+w",
        user: "root",
        group: "root",
      },
    ]);
    // configFile would copy configuration.nix read-only.
    assert.ok(!names.includes("configFile"));
  });
});
