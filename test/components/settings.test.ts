import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { configBlock, FILES, packageArgs, settingsTable } from "../../scripts/settings-docs.ts";
import { SETTINGS } from "../../components/settings.ts";
import { isCidr } from "../../components/rules.ts";
import { InvalidArgumentError, resolveArgs } from "../../components/resolve.ts";
import type { NixosImageArgs } from "../../components/args.ts";

const verify = { flavorName: "m1.small", networkName: "private", sshSourceCidr: "203.0.113.7/32" };

const P1 = "0123456789abcdef0123456789abcdef";
const P2 = "fedcba9876543210fedcba9876543210";

describe("resolveArgs", () => {
  it("fills in every default", () => {
    const resolved = resolveArgs({});
    assert.equal(resolved.kernelLatest, true);
    assert.equal(resolved.diskSize, "auto");
    assert.equal(resolved.system, undefined);
    assert.equal(resolved.bootMode, undefined);
    assert.equal(resolved.channel, undefined);
    assert.equal(resolved.nixpkgs, undefined);
    assert.equal(resolved.visibility, "private");
    assert.equal(resolved.keepGenerations, 3);
    assert.equal(resolved.minRamMb, 512);
    assert.equal(resolved.buildTimeoutMinutes, 120);
    assert.equal(resolved.uploadTimeoutMinutes, 30);
    assert.equal(resolved.verify, undefined);
    assert.match(resolved.source, /(^|\/)nix$/);
  });

  it("shares with members as a shared image, and takes regions and member clouds as given", () => {
    const resolved = resolveArgs({
      members: [P1, P2],
      memberClouds: { [P2]: "demo" },
      regions: ["RegionOne", "r-2"],
    });
    assert.equal(resolved.visibility, "shared");
    assert.deepEqual(resolved.members, [P1, P2]);
    assert.deepEqual(resolved.memberClouds, { [P2]: "demo" });
    assert.deepEqual(resolved.regions, ["RegionOne", "r-2"]);
    assert.deepEqual(resolveArgs({ members: ["01234567-89ab-cdef-0123-456789abcdef"] }).members.length, 1);
    assert.deepEqual([resolveArgs({}).members, resolveArgs({}).regions], [[], []]);
  });

  it("raises errors that carry only their message: Pulumi's runner formats the stack of any error it reports", () => {
    const error = new InvalidArgumentError("diskSize", "a whole number", 5);
    assert.equal(error.stack, `InvalidArgumentError: ${error.message}`);
  });

  it("fills in the defaults of verify", () => {
    assert.deepEqual(resolveArgs({ verify }).verify, {
      ...verify,
      floatingIpPool: undefined,
      timeout: 600,
      configDrive: false,
      requireHostKeyPin: true,
      sshProxyJump: undefined,
      sshJumpConfig: undefined,
    });
  });

  it('accepts "auto" and the bounds of diskSize', () => {
    assert.equal(resolveArgs({ diskSize: "auto" }).diskSize, "auto");
    assert.equal(resolveArgs({ diskSize: 1024 }).diskSize, 1024);
    assert.equal(resolveArgs({ diskSize: 2097152 }).diskSize, 2097152);
  });

  it("accepts every system, boot mode and channel form the image supports", () => {
    for (const bootMode of ["bios", "uefi", "hybrid"] as const)
      assert.equal(resolveArgs({ system: "x86_64-linux", bootMode }).bootMode, bootMode);
    assert.equal(resolveArgs({ system: "aarch64-linux", bootMode: "uefi" }).system, "aarch64-linux");
    assert.equal(resolveArgs({ system: "aarch64-linux" }).bootMode, undefined);
    for (const channel of [
      "nixos-25.11",
      "nixos-unstable",
      "nixos-24.11-small",
      "https://example.org/channel",
    ])
      assert.equal(resolveArgs({ channel }).channel, channel);
  });

  const invalid: [string, unknown, RegExp][] = [
    [
      "kernelLatest",
      { kernelLatest: "yes" },
      /"kernelLatest" setting must be a boolean \(true or false\); received "yes"/,
    ],
    [
      "diskSize",
      { diskSize: 1023 },
      /"diskSize" setting must be "auto" or a whole number of MiB from 1024 to 2097152; received 1023/,
    ],
    ["diskSize", { diskSize: "big" }, /"diskSize" .* received "big"/],
    [
      "system",
      { system: "riscv64-linux" },
      /"system" setting must be one of x86_64-linux, aarch64-linux; received "riscv64-linux"/,
    ],
    ["bootMode", { bootMode: "efi" }, /"bootMode" setting must be one of bios, uefi, hybrid; received "efi"/],
    [
      "bootMode",
      { system: "aarch64-linux", bootMode: "bios" },
      /"bootMode" setting must be uefi for system "aarch64-linux" \(it has no BIOS\); received "bios"/,
    ],
    [
      "channel",
      { channel: "unstable" },
      /"channel" setting must be a channel name such as "nixos-25.11" or "nixos-unstable", or an http\(s\) URL of a channel; received "unstable"/,
    ],
    ["diskSize", { diskSize: 1536.5 }, /"diskSize" .* received 1536.5/],
    ["diskSize", { diskSize: "2048" }, /"diskSize" .* received "2048"/],
    ["diskSize", { diskSize: 4 * 1024 * 1024 }, /"diskSize" .* received 4194304/],
    [
      "nixpkgs",
      { nixpkgs: "/no/such/nixpkgs" },
      /"nixpkgs" setting must be an existing local path or an http\(s\) URL of a nixpkgs tarball; received "\/no\/such\/nixpkgs"/,
    ],
    ["nixpkgs", { nixpkgs: "ftp://example.org/nixpkgs.tar.gz" }, /"nixpkgs" .* received "ftp:/],
    [
      "source",
      { source: "/no/such/expression" },
      /"source" setting must be an existing Nix file or directory/,
    ],
    [
      "imageName",
      { imageName: "" },
      /"imageName" setting must be a non-empty string of at most 255 characters; received ""/,
    ],
    [
      "imageName",
      { imageName: "x".repeat(256) },
      /"imageName" setting must be a non-empty string of at most 255/,
    ],
    [
      "visibility",
      { visibility: "internal" },
      /"visibility" setting must be one of private, shared, community, public; received "internal"/,
    ],
    [
      "properties",
      { properties: { size: 3 } },
      /"properties" setting must be a map of string keys to string values; received \{"size":3\}/,
    ],
    ["properties", { properties: ["a"] }, /"properties" setting must be a map/],
    [
      "a reserved property",
      { properties: { os_hash_value: "x" } },
      /"properties.os_hash_value" setting must be a key Glance does not reserve/,
    ],
    ["tags", { tags: "nixos" }, /"tags" setting must be a list of non-empty strings; received "nixos"/],
    [
      "keepGenerations",
      { keepGenerations: 0 },
      /"keepGenerations" setting must be a whole number of generations from 1 to 100; received 0/,
    ],
    [
      "keepGenerations",
      { keepGenerations: 2.5 },
      /"keepGenerations" setting must be a whole number .*; received 2.5/,
    ],
    [
      "keepGenerations",
      { keepGenerations: "3" },
      /"keepGenerations" setting must be a whole number .*; received "3"/,
    ],
    [
      "retainOldImages",
      { retainOldImages: true },
      /"retainOldImages" setting must be removed: keepGenerations \(default 3\) replaces it.*`pulumi config rm retainOldImages`.*; received true/,
    ],
    [
      "replaceFrequency",
      { replaceFrequency: "hourly" },
      /"replaceFrequency" setting must be one of yearly, quarterly, monthly, weekly, daily, critical_bug, never; received "hourly"/,
    ],
    [
      "members",
      { members: ["not-a-project"] },
      /"members\[0\]" setting must be a Keystone project ID \(32 hex digits\); received "not-a-project"/,
    ],
    [
      "members",
      { members: "0123456789abcdef0123456789abcdef" },
      /"members" setting must be a list, each item a Keystone project ID \(32 hex digits\); received "0123/,
    ],
    [
      "members",
      { members: [P1, P1] },
      new RegExp(`"members\\[1\\]" setting must be .*, each listed once; received "${P1}"`),
    ],
    [
      "visibility",
      { members: [P1], visibility: "private" },
      /"visibility" setting must be "shared" when members are set .*; received "private"/,
    ],
    [
      "memberClouds",
      { members: [P1], memberClouds: { [P2]: "demo" } },
      new RegExp(`"memberClouds.${P2}" setting must be a project listed in members; received "${P2}"`),
    ],
    [
      "memberClouds",
      { members: [P1], memberClouds: { [P1]: "" } },
      /"memberClouds" setting must be a map of member project IDs to cloud names/,
    ],
    [
      "regions",
      { regions: ["RegionOne", "RegionOne"] },
      /"regions\[1\]" setting must be a Keystone region ID such as "RegionOne", each listed once; received "RegionOne"/,
    ],
    [
      "regions",
      { regions: ["Region One"] },
      /"regions\[0\]" setting must be a Keystone region ID .*; received "Region One"/,
    ],
    ["regions", { regions: "RegionOne" }, /"regions" setting must be a list, each item a Keystone region ID/],
    [
      "properties",
      { properties: { os_version: "x" } },
      /"properties.os_version" setting must be a key the component does not set itself \(not os_distro, os_version, .*\); received "os_version"/,
    ],
    [
      "properties",
      { properties: { image_build_date: "x" } },
      /"properties.image_build_date" setting must be a key the component does not set itself/,
    ],
    [
      "properties",
      { properties: { provided_until: "2030-01-01" } },
      /"properties.provided_until" setting must be a key the component does not set itself/,
    ],
    // The stages' marks prove what happened to an image: a user's property may not forge one.
    ...["promoted", "verified", "exposed", "orphaned", "family"].map((mark): [string, object, RegExp] => [
      "properties",
      { properties: { [`nixos_cloud_image_${mark}`]: "x" } },
      new RegExp(
        `"properties.nixos_cloud_image_${mark}" setting must be a key the component does not set itself`,
      ),
    ]),
    [
      "minRamMb",
      { minRamMb: 63 },
      /"minRamMb" setting must be a whole number of MiB from 64 to 4194304; received 63/,
    ],
    [
      "minRamMb",
      { minRamMb: 4194305 },
      /"minRamMb" setting must be a whole number of MiB from 64 to 4194304/,
    ],
    ["minRamMb", { minRamMb: 512.5 }, /"minRamMb" setting must be a whole number of MiB .*; received 512.5/],
    [
      "nixOptions",
      { nixOptions: { "Builders!": "x" } },
      /"nixOptions.Builders!" setting must be a Nix setting name/,
    ],
    [
      "buildTimeoutMinutes",
      { buildTimeoutMinutes: 0 },
      /"buildTimeoutMinutes" setting must be a whole number of minutes from 1 to 10080; received 0/,
    ],
    ["uploadTimeoutMinutes", { uploadTimeoutMinutes: -5 }, /"uploadTimeoutMinutes" .* received -5/],
    [
      "verify",
      { verify: "yes" },
      /"verify" setting must be an object with flavorName, networkName and sshSourceCidr; received "yes"/,
    ],
    [
      "verify.flavorName",
      { verify: { ...verify, flavorName: "" } },
      /"verify.flavorName" setting must be a non-empty string; received ""/,
    ],
    [
      "verify.networkName",
      { verify: { ...verify, networkName: undefined } },
      /"verify.networkName" setting must be a non-empty string; received nothing/,
    ],
    [
      "verify.sshSourceCidr",
      { verify: { ...verify, sshSourceCidr: "203.0.113.7" } },
      /"verify.sshSourceCidr" setting must be a CIDR such as "203.0.113.7\/32" or "2001:db8::\/64"; received "203.0.113.7"/,
    ],
    [
      "verify.sshSourceCidr",
      { verify: { ...verify, sshSourceCidr: "10.0.0.0/33" } },
      /"verify.sshSourceCidr" .* received "10.0.0.0\/33"/,
    ],
    [
      "verify.keepInstance",
      { verify: { ...verify, keepInstance: false } },
      /"verify.keepInstance" setting must be removed: the test server and everything made for it are deleted when the check ends, so remove the key; received false/,
    ],
    [
      "verify.floatingIpPol",
      { verify: { ...verify, floatingIpPol: "public" } },
      /"verify.floatingIpPol" setting must be one of the known keys \(flavorName, networkName, sshSourceCidr, floatingIpPool, timeout, configDrive, requireHostKeyPin, sshProxyJump, sshJumpConfig\); received "floatingIpPol"/,
    ],
    [
      "verify.sshProxyJump",
      { verify: { ...verify, sshProxyJump: "ops@bastion:0" } },
      /"verify.sshProxyJump" setting must be \[user@\]host\[:port\], as ssh -J takes it; received "ops@bastion:0"/,
    ],
    [
      "verify.sshProxyJump",
      { verify: { ...verify, floatingIpPool: "public", sshProxyJump: "ops@bastion" } },
      /"verify.sshProxyJump" setting must be unset when floatingIpPool is set \(the bastion reaches the fixed IP\); received "ops@bastion"/,
    ],
    [
      "verify.sshJumpConfig",
      { verify: { ...verify, sshJumpConfig: "/etc/hostname" } },
      /"verify.sshJumpConfig" setting must be unset unless sshProxyJump is set \(it configures the hop\); received "\/etc\/hostname"/,
    ],
    [
      "verify.sshJumpConfig",
      { verify: { ...verify, sshProxyJump: "bastion", sshJumpConfig: "/nonexistent/jump_config" } },
      /"verify.sshJumpConfig" setting must be the absolute path of an existing file, .*; received "\/nonexistent\/jump_config"/,
    ],
    [
      "verify.timeout",
      { verify: { ...verify, timeout: 5 } },
      /"verify.timeout" setting must be a whole number of seconds from 10 to 3600; received 5/,
    ],
  ];
  for (const [setting, args, message] of invalid) {
    it(`rejects a bad ${setting} with a message naming it, the rule and the value (${JSON.stringify(args).slice(0, 60)})`, () => {
      assert.throws(() => resolveArgs(args as NixosImageArgs), message);
    });
  }

  it("prefixes setting names with where they came from", () => {
    assert.throws(
      () => resolveArgs({ diskSize: 1 }, "nixos-cloud-image:"),
      /The "nixos-cloud-image:diskSize" setting/,
    );
  });
});

describe("isCidr", () => {
  const cases: [string, boolean][] = [
    ["192.0.2.0/24", true],
    ["0.0.0.0/0", true],
    ["2001:db8::/32", true],
    ["192.0.2.1", false],
    ["192.0.2.0/", false],
    ["300.0.2.0/24", false],
    ["2001:db8::/129", false],
    ["example.org/24", false],
  ];
  for (const [value, ok] of cases)
    it(`says ${value} is ${ok ? "" : "not "}a CIDR`, () => assert.equal(isCidr(value), ok));
});

describe("the files written from the settings (npm run settings)", () => {
  for (const [file, render] of Object.entries(FILES)) {
    it(`${file} is current: run \`npm run settings\` after changing components/settings.ts`, () => {
      const current = readFileSync(new URL(`../../${file}`, import.meta.url), "utf8");
      assert.equal(render(current), current);
    });
  }

  it("declares each setting in Pulumi.yaml with its description and, where the rule has one, its default", () => {
    const config = parse(configBlock()).config;
    assert.deepEqual(Object.keys(config), Object.keys(SETTINGS));
    assert.equal(
      config.minRamMb.description,
      "Glance min_ram: MiB of memory a server needs to boot the image, 64 or more. Default: 512.",
    );
    assert.deepEqual(
      [
        config.kernelLatest.default,
        config.diskSize.default,
        config.keepGenerations.default,
        config.source.default,
      ],
      [true, "auto", 3, ""],
    );
  });

  it("gives README one row per setting, with its default and meaning", () => {
    const rows = settingsTable().trim().split("\n").slice(2);
    assert.deepEqual(
      rows.map((row) => /^\| `(\w+)` \|/.exec(row)?.[1]),
      Object.keys(SETTINGS),
    );
    assert.equal(rows[0], `| \`kernelLatest\` | \`true\` | ${SETTINGS.kernelLatest.about} |`);
    assert.ok(rows.at(-1)!.startsWith("| `verify` | off | "));
  });

  it("describes each input of the package by its setting, and names a setting the package lacks", () => {
    const file = readFileSync(new URL("../../components/package/args.ts", import.meta.url), "utf8");
    assert.match(file, /\/\*\* Glance min_ram: MiB of memory .*Default: 512\. \*\/\n {2}minRamMb\?: number;/);
    assert.throws(
      () => packageArgs(file.replace(/\n {2}\/\*\*[^\n]*\*\/\n {2}tags\?: string\[\];/, "")),
      /NixosImagePackageArgs lacks tags: add each as an input/,
    );
    assert.throws(
      () => packageArgs(file.replace("  tags?:", "  labels?:")),
      /NixosImagePackageArgs\.labels is no setting/,
    );
  });
});

describe("the settings' messages, whole", () => {
  // The house's form, unchanged by the move to one definition per setting: key, rule, value received.
  const cases: [NixosImageArgs, string][] = [
    [
      { minRamMb: 63 },
      'The "minRamMb" setting must be a whole number of MiB from 64 to 4194304; received 63.',
    ],
    [
      { kernelLatest: "yes" as never },
      'The "kernelLatest" setting must be a boolean (true or false); received "yes".',
    ],
    [
      { bootMode: "efi" as never },
      'The "bootMode" setting must be one of bios, uefi, hybrid; received "efi".',
    ],
    [
      { members: [P1, P1] },
      `The "members[1]" setting must be a Keystone project ID (32 hex digits), each listed once; received "${P1}".`,
    ],
    [
      { verify: { ...verify, networkName: undefined as never } },
      'The "verify.networkName" setting must be a non-empty string; received nothing.',
    ],
    [
      { verify: { flavorName: "f", sshSourceCidr: "10.0.0.0/8" } as never },
      'The "verify.networkName" setting must be a non-empty string; received nothing.',
    ],
    [
      { nixOptions: { "Builders!": "x" } },
      'The "nixOptions.Builders!" setting must be a Nix setting name like "builders" or "extra-substituters"; received "Builders!".',
    ],
    [{ tags: [""] }, 'The "tags[0]" setting must be a non-empty string; received "".'],
    [[] as never, 'The "args" setting must be an object; received [].'],
  ];
  for (const [args, message] of cases) {
    it(message, () => assert.throws(() => resolveArgs(args), { message }));
  }

  it("takes null as not set, where a setting may be left out", () => {
    assert.deepEqual(resolveArgs({ diskSize: null, verify: { ...verify, timeout: null } } as never), {
      ...resolveArgs({ verify }),
    });
  });
});
