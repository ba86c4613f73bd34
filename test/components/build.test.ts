import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildScript, expectedImage, nixBuildArgs, parseBuildOutput } from "../../components/build.ts";
import { resolveArgs } from "../../components/validate.ts";
import { shellQuote } from "../../components/shell.ts";
import { parseImageInfo } from "../../components/imageInfo.ts";
import { FIXTURE_DIR, nix } from "../support/nix.ts";
import { fakeImageInfo } from "../support/pulumiMocks.ts";

describe("the nix-build command", () => {
  it("passes the documented arguments, the nixpkgs URL and Nix settings through", () => {
    const args = resolveArgs({
      kernelLatest: false,
      diskSize: 2048,
      nixpkgs: "https://example.org/nixpkgs.tar.gz",
      nixOptions: {
        builders: "ssh://builder x86_64-linux",
        "extra-substituters": "https://cache.example.org",
      },
    });
    assert.deepEqual(nixBuildArgs(args, "gc/link").slice(1), [
      "--arg",
      "kernelLatest",
      "false",
      "--arg",
      "diskSize",
      "2048",
      "--argstr",
      "nixpkgs",
      "https://example.org/nixpkgs.tar.gz",
      "--option",
      "builders",
      "ssh://builder x86_64-linux",
      "--option",
      "extra-substituters",
      "https://cache.example.org",
      "--out-link",
      "gc/link",
    ]);
  });

  it('passes "auto", the system, the boot mode and the channel as strings, and only when set', () => {
    const words = (a: object) => nixBuildArgs(resolveArgs(a), "l").slice(1).join(" ");
    assert.equal(words({}), "--arg kernelLatest true --argstr diskSize auto --out-link l");
    assert.equal(
      words({ diskSize: 1024, system: "aarch64-linux", bootMode: "uefi", channel: "nixos-unstable" }),
      "--arg kernelLatest true --arg diskSize 1024 --argstr system aarch64-linux --argstr bootMode uefi --argstr channel nixos-unstable --out-link l",
    );
  });

  it("builds the fixture with exactly those words, to an image-info.json that matches what was asked", async function () {
    this.timeout(120_000);
    for (const settings of [
      { diskSize: "auto" },
      { system: "aarch64-linux", channel: "nixos-unstable" },
      { bootMode: "hybrid", diskSize: 1024 },
    ] as const) {
      const args = resolveArgs({ source: FIXTURE_DIR, ...settings });
      const words = nixBuildArgs(args, "unused").slice(0, -2);
      const result = await nix("nix-build", [...words, "--no-out-link"]);
      assert.equal(result.exitCode, 0, result.stderr);
      const out = result.stdout.trim();
      const info = parseImageInfo(
        execFileSync("cat", [`${out}/nix-support/image-info.json`], { encoding: "utf8" }),
        {
          diskSize: args.diskSize === "auto" ? undefined : args.diskSize,
          bootMode: args.bootMode,
          system: args.system,
        },
      );
      assert.equal(info.diskSize, args.diskSize === "auto" ? 3 : args.diskSize, JSON.stringify(settings));
      if (args.system === "aarch64-linux") assert.equal(info.bootMode, "uefi");
      if (args.channel) assert.equal(info.channel, "https://nixos.org/channels/nixos-unstable");
    }
  });

  it("makes a local nixpkgs path absolute, since Nix resolves no relative string paths", () => {
    const args = resolveArgs({ nixpkgs: "." });
    const words = nixBuildArgs(args, "l");
    assert.equal(words[words.indexOf("nixpkgs") + 1], process.cwd());
  });

  it("quotes every word so the shell passes it unchanged", () => {
    for (const word of ["plain", "with space", "it's", "$HOME", "a;b", ""]) {
      assert.equal(execFileSync("sh", ["-c", `printf %s ${shellQuote(word)}`], { encoding: "utf8" }), word);
    }
  });

  it("prints only the image-info document and the build time on stdout, and stops at the first failure", () => {
    const script = buildScript(resolveArgs({}), "gc/link");
    assert.match(script, /^set -eu\n/);
    // The script as it is, with a build result in place of nix-build's.
    const result = mkdtempSync(path.join(tmpdir(), "nci-build-"));
    mkdirSync(path.join(result, "nix-support"));
    writeFileSync(path.join(result, "nix-support/image-info.json"), fakeImageInfo(1024));
    const run = script.replace(/^mkdir.*$/m, "").replace(/^out=.*$/m, `out=${shellQuote(result)}`);
    const out = execFileSync("sh", ["-c", run], { encoding: "utf8" });
    const { info, builtAt } = parseBuildOutput(out, {});
    assert.equal(info.format, "raw");
    assert.match(builtAt, /^20\d\d-\d\d-\d\d \d\d:\d\d$/);
    assert.throws(
      () => parseBuildOutput(fakeImageInfo(1024), {}),
      /output has no build time; received undefined/,
    );
  });
});
