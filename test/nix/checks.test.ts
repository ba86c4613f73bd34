import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { FIXTURE_DIR, NIX_DIR, instantiate, nixEval, nixString } from "../support/nix.ts";
import type { NixArg } from "../support/nix.ts";

const NIXPKGS_RULE =
  'The "nixpkgs" argument must be null (the pin in nix/pin.nix), a path or an absolute path string of a nixpkgs source tree, or an http(s) URL of a nixpkgs tarball';

/** Arguments both nix/ and the fixture refuse, with the message they must give. */
const REFUSED: [string, Record<string, NixArg>, string][] = [
  [
    "kernelLatest given with --argstr",
    { kernelLatest: "false" },
    'The "kernelLatest" argument must be a boolean (true or false); received "false". Pass it with --arg kernelLatest false, not --argstr.',
  ],
  [
    "kernelLatest given as a word",
    { kernelLatest: "yes" },
    'The "kernelLatest" argument must be a boolean (true or false); received "yes".',
  ],
  [
    "a numeric kernelLatest",
    { kernelLatest: 1 },
    'The "kernelLatest" argument must be a boolean (true or false); received 1.',
  ],
  [
    "a null kernelLatest",
    { kernelLatest: null },
    'The "kernelLatest" argument must be a boolean (true or false); received null.',
  ],
  [
    "a diskSize above 2 TiB",
    { diskSize: 2097153 },
    'The "diskSize" argument must be "auto" (the closure plus headroom) or a whole number of MiB from',
  ],
  ["a diskSize that is another word", { diskSize: "big" }, '; received "big".'],
  ["a zero diskSize", { diskSize: 0 }, "; received 0."],
  ["a negative diskSize", { diskSize: { expr: "(-5)" } }, "; received -5."],
  ["a fractional diskSize", { diskSize: 1536.5 }, "; received 1536.5."],
  [
    "diskSize given with --argstr",
    { diskSize: "2048" },
    'received "2048". Pass it with --arg diskSize 2048, not --argstr.',
  ],
  [
    "another system",
    { system: "riscv64-linux" },
    'The "system" argument must be "x86_64-linux" or "aarch64-linux"; received "riscv64-linux".',
  ],
  [
    "an unknown boot mode",
    { bootMode: "efi" },
    'The "bootMode" argument must be null (the system\'s default) or one of "bios", "uefi", "hybrid"; received "efi".',
  ],
  [
    "BIOS boot on aarch64",
    { system: "aarch64-linux", bootMode: "bios" },
    'The "bootMode" argument must be "uefi" for system "aarch64-linux" (it has no BIOS); received "bios".',
  ],
  ["hybrid boot on aarch64", { system: "aarch64-linux", bootMode: "hybrid" }, 'received "hybrid".'],
  [
    "a channel that is neither a channel name nor a URL",
    { channel: "unstable" },
    'The "channel" argument must be null (derived from nixpkgs), a channel name such as "nixos-25.11" or "nixos-unstable", or an http(s) URL of a channel; received "unstable".',
  ],
  ["a channel name with a typo", { channel: "nixos-25.1" }, 'received "nixos-25.1".'],
  [
    "extraModules holding a string",
    { extraModules: { expr: '[ "site.nix" ]' } },
    'The "extraModules" argument must be a list of paths of NixOS modules',
  ],
  ["extraModules that is not a list", { extraModules: { expr: "./nix/pin.nix" } }, "received /"],
  [
    "a relative nixpkgs string",
    { nixpkgs: "nixpkgs" },
    `${NIXPKGS_RULE}; received the relative path "nixpkgs": make it absolute, or pass it as a path`,
  ],
  [
    "a nixpkgs path that is not nixpkgs",
    { nixpkgs: "/nonexistent" },
    `${NIXPKGS_RULE}; "/nonexistent" has no nixos/lib/make-disk-image.nix.`,
  ],
  [
    "a nixpkgs URL that is not http(s)",
    { nixpkgs: "ftp://example.org/nixpkgs.tar.gz" },
    "which is not an http(s) URL.",
  ],
  ["a numeric nixpkgs", { nixpkgs: 42 }, `${NIXPKGS_RULE}; received 42.`],
];

/**
 * A directory that passes the nixpkgs check but throws as soon as anything in it is imported:
 * reaching that error proves every check passed and ran before nixpkgs was touched.
 */
function stubNixpkgs(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "stub-nixpkgs-"));
  for (const file of ["lib/default.nix", "nixos/lib/eval-config.nix", "nixos/lib/make-disk-image.nix"]) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), 'throw "stub nixpkgs imported"\n');
  }
  return dir;
}

describe("The argument checks", () => {
  let stub: string;
  before(() => {
    stub = stubNixpkgs();
  });
  after(() => rmSync(stub, { recursive: true, force: true }));

  for (const [dir, name] of [
    [NIX_DIR, "nix/"],
    [FIXTURE_DIR, "The fixture"],
  ]) {
    for (const [what, args, message] of REFUSED) {
      it(`${name === "nix/" ? "nix/" : name} refuses ${what} with a message saying what to pass.`, async () => {
        const result = await instantiate(dir, args);
        assert.notEqual(result.exitCode, 0, `instantiation must fail: ${result.stdout}`);
        assert.ok(
          result.stderr.includes(message),
          `expected ${JSON.stringify(message)} in:\n${result.stderr}`,
        );
        // The default nixpkgs is the pin: had it been fetched, there would be a download error.
        assert.doesNotMatch(result.stderr, /download|fetch|stub nixpkgs/i);
      });
    }
  }

  it("nix/ refuses a diskSize below 1024 MiB.", async () => {
    const result = await instantiate(NIX_DIR, { diskSize: 300 });
    assert.ok(
      result.stderr.includes(
        'The "diskSize" argument must be "auto" (the closure plus headroom) or a whole number of MiB from 1024 to 2097152; received 300.',
      ),
      result.stderr,
    );
  });

  it("The fixture accepts a diskSize from 1 MiB, as it holds no closure.", async () => {
    const result = await instantiate(FIXTURE_DIR, { diskSize: 300 });
    assert.equal(result.exitCode, 0, result.stderr);
    const refused = await instantiate(FIXTURE_DIR, { diskSize: 0 });
    assert.ok(
      refused.stderr.includes("or a whole number of MiB from 1 to 2097152; received 0."),
      refused.stderr,
    );
  });

  it("The fixture refuses a fill other than zero or random.", async () => {
    const result = await instantiate(FIXTURE_DIR, { fill: "ones" });
    assert.ok(
      result.stderr.includes('The "fill" argument must be "zero" or "random"; received "ones".'),
      result.stderr,
    );
  });

  it("nix/ checks every argument before it imports nixpkgs.", async () => {
    const refused = await instantiate(NIX_DIR, { diskSize: 300, nixpkgs: stub });
    assert.match(refused.stderr, /"diskSize" argument/);
    assert.doesNotMatch(refused.stderr, /stub nixpkgs imported/);
    const accepted: Record<string, NixArg>[] = [
      {
        kernelLatest: false,
        diskSize: 2048,
        nixpkgs: stub,
        system: "x86_64-linux",
        bootMode: "hybrid",
        channel: "nixos-unstable",
        extraModules: { expr: "[ ./nix/pin.nix ]" },
      },
      { diskSize: "auto", nixpkgs: stub, system: "aarch64-linux", bootMode: "uefi" },
      { nixpkgs: stub, system: "aarch64-linux" },
    ];
    for (const args of accepted) {
      const result = await instantiate(NIX_DIR, args);
      assert.match(result.stderr, /stub nixpkgs imported/, JSON.stringify(args));
    }
  });

  it("nix/ takes nixpkgs as a path, as well as a string.", async () => {
    const result = await instantiate(NIX_DIR, { nixpkgs: { expr: stub } });
    assert.match(result.stderr, /stub nixpkgs imported/);
  });

  it("The checks accept every kind of value the arguments document.", async () => {
    const accepted = await nixEval(`
      with (import ${nixString(`${NIX_DIR}/args.nix`)}).check;
      [
        (kernelLatest true) (kernelLatest false)
        (diskSize "auto") (diskSize 1024) (diskSize 2048) (diskSize 2097152)
        (system "x86_64-linux") (system "aarch64-linux")
        (bootMode "x86_64-linux" null) (bootMode "x86_64-linux" "bios") (bootMode "x86_64-linux" "uefi")
        (bootMode "x86_64-linux" "hybrid") (bootMode "aarch64-linux" null) (bootMode "aarch64-linux" "uefi")
        (channel null) (channel "nixos-25.11") (channel "nixos-24.11-small") (channel "nixos-unstable")
        (channel "nixos-unstable-small") (channel "https://nixos.org/channels/nixos-25.05")
        (extraModules [ ]) (extraModules [ ./nix/pin.nix ./nix ])
        (nixpkgs null) (nixpkgs ${nixString(stub)}) (nixpkgs (/. + ${nixString(stub)}))
        (nixpkgs "https://github.com/NixOS/nixpkgs/archive/1267bb4920d0fc06ea916734c11b0bf004bbe17e.tar.gz")
      ]`);
    assert.ok(Array.isArray(accepted) && accepted.every((ok) => ok === true), JSON.stringify(accepted));
  });

  it("A null bootMode is BIOS on x86_64 and UEFI on aarch64; a given one is kept.", async () => {
    const modes = await nixEval(`
      with import ${nixString(`${NIX_DIR}/args.nix`)};
      [ (resolveBootMode "x86_64-linux" null) (resolveBootMode "aarch64-linux" null) (resolveBootMode "x86_64-linux" "hybrid") ]`);
    assert.deepEqual(modes, ["bios", "uefi", "hybrid"]);
  });
});
