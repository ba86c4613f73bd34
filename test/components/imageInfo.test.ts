import assert from "node:assert/strict";
import { parseImageInfo, storeHash } from "../../components/imageInfo.ts";
import { fakeImageInfo } from "../support/pulumiMocks.ts";

describe("parseImageInfo", () => {
  it("accepts a complete document and names the store hash", () => {
    const info = parseImageInfo(fakeImageInfo(1024), { diskSize: 1024 });
    assert.equal(info.kernelVersion, "6.15.2");
    assert.equal(info.channel, "https://nixos.org/channels/nixos-25.05");
    assert.equal(storeHash(info), "0123456789abcdfghijklmnpqrsvwxyz");
  });

  it("accepts any size built when none was requested (diskSize auto), and every boot mode", () => {
    assert.equal(parseImageInfo(fakeImageInfo(2861)).diskSize, 2861);
    for (const bootMode of ["bios", "uefi", "hybrid"]) {
      assert.equal(
        parseImageInfo(fakeImageInfo(1024, { bootMode }), { bootMode: bootMode as any }).bootMode,
        bootMode,
      );
    }
  });

  const mismatched: [string, string, Parameters<typeof parseImageInfo>[1], RegExp][] = [
    [
      "disk size",
      fakeImageInfo(4096),
      { diskSize: 1024 },
      /"diskSize" must equal the requested 1024; received 4096/,
    ],
    [
      "boot mode",
      fakeImageInfo(1024, { bootMode: "bios" }),
      { bootMode: "uefi" },
      /"bootMode" must equal the requested "uefi"; received "bios"/,
    ],
    [
      "system",
      fakeImageInfo(1024),
      { system: "aarch64-linux" },
      /"system" must equal the requested "aarch64-linux"; received "x86_64-linux"/,
    ],
  ];
  for (const [what, stdout, expected, message] of mismatched) {
    it(`rejects a ${what} other than the one requested`, () =>
      assert.throws(() => parseImageInfo(stdout, expected), message));
  }

  const broken: [string, string, RegExp][] = [
    [
      "output that is not JSON",
      "building...",
      /must print one JSON document on stdout; received "building..."/,
    ],
    ["a JSON array", "[]", /it must be a JSON object/],
    [
      "a file outside the store",
      fakeImageInfo(1024, { file: "/tmp/nixos.img" }),
      /"file" must be an absolute path inside \/nix\/store; received "\/tmp\/nixos.img"/,
    ],
    [
      "a missing file",
      fakeImageInfo(1024, { file: undefined }),
      /"file" must be a non-empty string; received undefined/,
    ],
    ["a qcow2 image", fakeImageInfo(1024, { format: "qcow2" }), /"format" must be "raw"; received "qcow2"/],
    [
      "a fractional disk size",
      fakeImageInfo(1024.5),
      /"diskSize" must be a positive whole number of MiB; received 1024.5/,
    ],
    [
      "a missing NixOS version",
      fakeImageInfo(1024, { nixosVersion: "" }),
      /"nixosVersion" must be a non-empty string/,
    ],
    [
      "a missing kernel version",
      fakeImageInfo(1024, { kernelVersion: 6 }),
      /"kernelVersion" must be a non-empty string; received 6/,
    ],
    ["an odd system", fakeImageInfo(1024, { system: "x86_64" }), /"system" must be a Nix system/],
    [
      "a non-boolean agent flag",
      fakeImageInfo(1024, { qemuGuestAgent: "yes" }),
      /"qemuGuestAgent" must be a boolean/,
    ],
    [
      "an unknown boot mode",
      fakeImageInfo(1024, { bootMode: "efi" }),
      /"bootMode" must be one of "bios", "uefi", "hybrid"; received "efi"/,
    ],
    [
      "a missing channel",
      fakeImageInfo(1024, { channel: undefined }),
      /"channel" must be a non-empty string; received undefined/,
    ],
    [
      "a channel that is not a URL",
      fakeImageInfo(1024, { channel: "nixos-25.05" }),
      /"channel" must be an http\(s\) URL/,
    ],
  ];
  for (const [what, stdout, message] of broken) {
    it(`rejects ${what}`, () => assert.throws(() => parseImageInfo(stdout), message));
  }
});
