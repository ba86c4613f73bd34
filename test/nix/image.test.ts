import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { makeDiskImageStub } from "../support/makeDiskImage.ts";
import { IMAGE_INFO_KEYS, NIX_DIR, nixEval, nixEvalError, nixString } from "../support/nix.ts";

/**
 * nix/image.nix evaluated against a stand-in nixpkgs whose make-disk-image.nix has exactly the argument
 * set of nixpkgs 24.11's (no `baseName`, no `...`), so Nix itself refuses any argument that release would
 * refuse; eval-config.nix records how it was called. The postVM script is then run for real on a file.
 */

/** The few lib functions nix/image.nix uses, as nixpkgs defines them. */
const LIB = (release: string, versionSuffix: string) => `{
  trivial = { release = ${nixString(release)}; versionSuffix = ${nixString(versionSuffix)}; };
  imap0 = f: list: builtins.genList (i: f i (builtins.elemAt list i)) (builtins.length list);
  concatMapStringsSep = sep: f: list: builtins.concatStringsSep sep (map f list);
  boolToString = b: if b then "true" else "false";
  optionalAttrs = cond: as: if cond then as else { };
  escapeShellArg = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\\\''" ] s + "'";
}
`;

/** eval-config.nix, with (24.11) or without (25.05) its extraModules argument. */
const EVAL_CONFIG = (
  withExtraModules: boolean,
) => `{ system, modules${withExtraModules ? ", extraModules ? [ ]" : ""} }@args:
{
  config = {
    system.nixos = { version = "24.11pre-git"; release = "24.11"; label = "24.11pre-git"; };
    boot.kernelPackages.kernel.version = "6.6.60";
    services.qemuGuest.enable = true;
    evalArgNames = builtins.attrNames args;
    # The build's own settings module (the second; the first is configuration.nix).
    settingsModule = builtins.elemAt modules 1;
  };
  pkgs = { stdenv.hostPlatform.system = system; coreutils = "/usr"; };
}
`;

function stubNixpkgs(dir: string, opts: { release: string; versionSuffix: string; extraModules: boolean }) {
  const write = (file: string, text: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  };
  write("lib/default.nix", LIB(opts.release, opts.versionSuffix));
  write("nixos/lib/eval-config.nix", EVAL_CONFIG(opts.extraModules));
  write("nixos/lib/make-disk-image.nix", makeDiskImageStub());
}

interface Evaluated {
  called: Record<string, any>;
  evalArgNames: string[];
  settingsModule: { nixosCloudImage: Record<string, unknown>; system: { stateVersion: string } };
  imageInfo: Record<string, unknown>;
  settings: string;
}

describe("nix/image.nix against a stand-in nixpkgs 24.11", () => {
  let root: string;
  let nixpkgs: string;
  before(() => {
    root = mkdtempSync(path.join(tmpdir(), "image-nix-"));
    nixpkgs = path.join(root, "nixpkgs-2411");
    stubNixpkgs(nixpkgs, { release: "24.11", versionSuffix: ".710315.abcdef0", extraModules: true });
    stubNixpkgs(path.join(root, "nixpkgs-2505"), {
      release: "25.05",
      versionSuffix: "pre-git",
      extraModules: false,
    });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const evaluate = async (args: string, tree = nixpkgs): Promise<Evaluated> =>
    (await nixEval(
      `let image = import ${nixString(NIX_DIR)} ({ nixpkgs = ${nixString(tree)}; system = "x86_64-linux"; } // ${args});
       in {
         inherit (image) called imageInfo;
         inherit (image.config) evalArgNames;
         settingsModule = builtins.removeAttrs image.config.settingsModule [ "imports" ];
         settings = builtins.readFile (builtins.head (builtins.filter (e: e.target == "/etc/nixos/image-settings.nix") image.etcNixos)).source;
       }`,
      { writeStore: true },
    )) as Evaluated;

  it("calls make-disk-image.nix with only the arguments 24.11 takes (no baseName, no configFile).", async () => {
    const { called } = await evaluate("{ }");
    assert.equal(called.diskSize, "auto");
    assert.equal(called.partitionTableType, "legacy");
    assert.ok(!("baseName" in called) && !("configFile" in called));
    assert.deepEqual(
      called.contents.map((c: any) => [c.target, c.mode, c.user, c.group]),
      [
        ["/etc/nixos/configuration.nix", "u+w", "root", "root"],
        ["/etc/nixos/cloud.nix", "u+w", "root", "root"],
        ["/etc/nixos/boot.nix", "u+w", "root", "root"],
        ["/etc/nixos/cloud-init-settings.nix", "u+w", "root", "root"],
        ["/etc/nixos/image-settings.nix", "u+w", "root", "root"],
      ],
    );
  });

  it("fails, as Nix would on 24.11, when make-disk-image.nix gets an argument it does not take.", async () => {
    const error = await nixEvalError(
      `(import ${nixString(`${nixpkgs}/nixos/lib/make-disk-image.nix`)}) { pkgs = { }; lib = { }; config = { }; baseName = "nixos"; }`,
    );
    assert.match(error, /unexpected argument 'baseName'/);
  });

  it("keeps eval-config.nix off $NIXOS_EXTRA_MODULE_PATH where it still reads it (24.11), and runs on 25.05 without.", async () => {
    assert.ok((await evaluate("{ }")).evalArgNames.includes("extraModules"));
    const newer = await evaluate('{ channel = "nixos-unstable"; }', path.join(root, "nixpkgs-2505"));
    assert.ok(!newer.evalArgNames.includes("extraModules"));
  });

  it("derives the channel of a release channel's tree, and writes it, the boot mode and the kernel choice into image-settings.nix.", async () => {
    const { imageInfo, settings, settingsModule } = await evaluate(
      '{ kernelLatest = false; bootMode = "hybrid"; }',
    );
    // The build evaluates the same settings it ships.
    assert.deepEqual(settingsModule, {
      nixosCloudImage: {
        kernelLatest: false,
        bootMode: "hybrid",
        channel: "https://nixos.org/channels/nixos-24.11",
      },
      system: { stateVersion: "24.11" },
    });
    assert.equal(imageInfo.channel, "https://nixos.org/channels/nixos-24.11");
    assert.equal(imageInfo.bootMode, "hybrid");
    assert.match(settings, /nixosCloudImage\.kernelLatest = false;/);
    assert.match(settings, /nixosCloudImage\.channel = "https:\/\/nixos\.org\/channels\/nixos-24\.11";/);
    assert.match(settings, /nixosCloudImage\.bootMode = "hybrid";/);
    assert.match(settings, /system\.stateVersion = "24\.11";/);
  });

  describe("postVM, run on a file in place of the image", () => {
    const run = async (args: string, bytes: number) => {
      const { called } = await evaluate(args);
      const out = mkdtempSync(path.join(root, "out-"));
      const diskImage = path.join(out, "nixos.img");
      writeFileSync(diskImage, "");
      truncateSync(diskImage, bytes);
      // As make-disk-image runs it: in bash, with $out and $diskImage set.
      const result = spawnSync("bash", ["-euc", called.postVM], {
        env: { PATH: "/usr/bin:/bin", out, diskImage },
        encoding: "utf8",
      });
      const infoFile = path.join(out, "nix-support/image-info.json");
      return { result, info: () => JSON.parse(readFileSync(infoFile, "utf8")) };
    };

    it('reports the size built with diskSize "auto"', async () => {
      const { result, info } = await run("{ }", 2861 * 1048576);
      assert.equal(result.status, 0, result.stderr);
      assert.equal(info().diskSize, 2861);
      assert.equal(info().channel, "https://nixos.org/channels/nixos-24.11");
      assert.deepEqual(Object.keys(info()).sort(), IMAGE_INFO_KEYS);
    });

    it("checks the size asked for, exactly", async () => {
      const ok = await run("{ diskSize = 1024; }", 1024 * 1048576);
      assert.equal(ok.result.status, 0, ok.result.stderr);
      assert.equal(ok.info().diskSize, 1024);
      const wrong = await run("{ diskSize = 1024; }", 2048 * 1048576);
      assert.notEqual(wrong.result.status, 0);
      assert.match(wrong.result.stderr, /is 2147483648 bytes, not 1024 MiB/);
    });

    it('refuses an "auto" size that is not a whole number of MiB', async () => {
      const { result } = await run("{ }", 1048576 + 512);
      assert.notEqual(result.status, 0);
      assert.match(result.stderr, /not a whole number of MiB/);
    });
  });
});
