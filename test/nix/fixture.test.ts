import assert from "node:assert/strict";
import { openSync, readSync, closeSync, readFileSync, statSync } from "node:fs";
import { parseImageInfo } from "../../components/imageInfo.ts";
import { FIXTURE_DIR, IMAGE_INFO_KEYS, build, drvPath, nixEval, nixString } from "../support/nix.ts";
import type { NixArg } from "../support/nix.ts";

const MiB = 1048576;

function readBytes(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, "r");
  try {
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, offset);
    return buffer;
  } finally {
    closeSync(fd);
  }
}

describe("The fixture image", () => {
  it("builds a raw file of exactly diskSize MiB and an image-info.json the component accepts.", async () => {
    const out = await build(FIXTURE_DIR, { diskSize: 3 });
    const document = readFileSync(`${out}/nix-support/image-info.json`, "utf8");
    const raw = JSON.parse(document) as Record<string, unknown>;
    assert.deepEqual(Object.keys(raw).sort(), IMAGE_INFO_KEYS);
    const info = parseImageInfo(document, { diskSize: 3 });
    assert.equal(info.file, `${out}/nixos.img`);
    assert.equal(statSync(info.file).size, 3 * MiB);
    assert.equal(info.format, "raw");
    assert.equal(info.system, "x86_64-linux");
    assert.equal(info.bootMode, "bios");
    assert.equal(info.qemuGuestAgent, true);
    assert.equal(info.channel, "https://nixos.org/channels/nixos-25.11");
    assert.match(info.nixosVersion, /^\d\d\.\d\d\.\d{8}\.[0-9a-f]{7}$/);
    assert.ok(info.nixosVersion.startsWith(`${info.nixosRelease}.`));
  });

  it("starts with a header that records its arguments.", async () => {
    const out = await build(FIXTURE_DIR, { diskSize: 2, kernelLatest: false });
    const header = readBytes(`${out}/nixos.img`, 0, 512).toString("latin1");
    assert.match(header, /^NIXOS-CLOUD-IMAGE FIXTURE \(not bootable\)\nkernelLatest=false\ndiskSize=2\n/);
    assert.match(header, /\nfill=zero\n/);
  });

  it('is filled with zeros by default and with random bytes with fill = "random".', async () => {
    const zero = await build(FIXTURE_DIR, { diskSize: 2 });
    assert.ok(readBytes(`${zero}/nixos.img`, MiB, 4096).every((byte) => byte === 0));
    const random = await build(FIXTURE_DIR, { diskSize: 2, fill: "random" });
    assert.equal(statSync(`${random}/nixos.img`).size, 2 * MiB);
    const tail = readBytes(`${random}/nixos.img`, MiB, 4096);
    assert.ok(tail.filter((byte) => byte === 0).length < 100, "random bytes are rarely zero");
  });

  it("reports a different kernelVersion for kernelLatest = false.", async () => {
    const kernels = await nixEval(`
      let fixture = kernelLatest: builtins.fromJSON (import ${nixString(FIXTURE_DIR)} { inherit kernelLatest; diskSize = 1; }).info;
      in [ (fixture true).kernelVersion (fixture false).kernelVersion ]`);
    assert.ok(Array.isArray(kernels));
    assert.notEqual(kernels[0], kernels[1]);
  });

  it('defaults to diskSize "auto" (3 MiB here), the latest kernel and zeros.', async () => {
    const drv = await nixEval(
      `with import ${nixString(FIXTURE_DIR)} { }; { inherit diskSize fill; info = builtins.fromJSON info; }`,
    );
    const { diskSize, fill, info } = drv as { diskSize: number; fill: string; info: Record<string, unknown> };
    assert.deepEqual(
      { diskSize, fill, kernel: info.kernelVersion, reported: info.diskSize },
      { diskSize: 3, fill: "zero", kernel: "6.99.0-fixture-latest", reported: 3 },
    );
  });

  it("describes an aarch64 image as UEFI-booting, and keeps a given boot mode and channel.", async () => {
    const infos = await nixEval(`
      let info = args: builtins.fromJSON (import ${nixString(FIXTURE_DIR)} ({ diskSize = 1; } // args)).info;
      in [
        (info { system = "aarch64-linux"; })
        (info { system = "x86_64-linux"; })
        (info { system = "x86_64-linux"; bootMode = "hybrid"; channel = "nixos-unstable"; })
      ]`);
    const pick = (i: any) => [i.system, i.bootMode, i.channel];
    assert.deepEqual((infos as any[]).map(pick), [
      ["aarch64-linux", "uefi", "https://nixos.org/channels/nixos-25.11"],
      ["x86_64-linux", "bios", "https://nixos.org/channels/nixos-25.11"],
      ["x86_64-linux", "hybrid", "https://nixos.org/channels/nixos-unstable"],
    ]);
  });

  describe("derivation", () => {
    const base: Record<string, NixArg> = { kernelLatest: true, diskSize: "auto" };
    const changes: [string, Record<string, NixArg>][] = [
      ["kernelLatest", { kernelLatest: false }],
      ["diskSize", { diskSize: 2048 }],
      ["system", { system: "aarch64-linux" }],
      ["bootMode", { bootMode: "uefi" }],
      ["channel", { channel: "nixos-unstable" }],
      [
        "nixpkgs",
        {
          nixpkgs: "https://github.com/NixOS/nixpkgs/archive/1267bb4920d0fc06ea916734c11b0bf004bbe17e.tar.gz",
        },
      ],
      ["extraModules", { extraModules: { expr: "[ ./nix/cloud.nix ]" } }],
      ["fill", { fill: "random" }],
    ];

    it("is the same for the same arguments, given or defaulted.", async () => {
      const first = await drvPath(FIXTURE_DIR, base);
      assert.equal(await drvPath(FIXTURE_DIR, base), first);
      assert.equal(await drvPath(FIXTURE_DIR), first);
    });

    for (const [name, change] of changes) {
      it(`changes when ${name} changes.`, async () => {
        assert.notEqual(await drvPath(FIXTURE_DIR, { ...base, ...change }), await drvPath(FIXTURE_DIR, base));
      });
    }
  });
});
