import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildScript, expectedImage, nixBuildArgs, parseBuildOutput } from "../../components/build.ts";
import { resolveArgs } from "../../components/resolve.ts";
import { shellQuote } from "../../components/shell.ts";
import { parseImageInfo } from "../../components/imageInfo.ts";
import { FIXTURE_DIR, nix } from "../support/nix.ts";
import { FAKE_SHA512, fakeBuildOutput, fakeImageInfo } from "../support/pulumiMocks.ts";

/** Runs the build script with a result directory in place of nix-build's; its file is a local one. */
function runBuildScript(bytes: string, env: NodeJS.ProcessEnv = process.env) {
  const script = buildScript(resolveArgs({}), "gc/link");
  const result = mkdtempSync(path.join(tmpdir(), "nci-build-"));
  mkdirSync(path.join(result, "nix-support"));
  const file = path.join(result, "nixos.img");
  writeFileSync(file, bytes);
  const infoFile = path.join(result, "nix-support/image-info.json");
  writeFileSync(infoFile, fakeImageInfo(1024, { file }));
  const run = script.replace(/^mkdir.*$/m, "").replace(/^out=.*$/m, `out=${shellQuote(result)}`);
  const sh = () => execFileSync("sh", ["-c", run], { encoding: "utf8", stdio: "pipe", env });
  const out = sh();
  // parseBuildOutput wants a store path; the script hashed the local file the document named.
  const parsed = parseBuildOutput(out.replace(JSON.stringify(file), JSON.stringify(STORE_FILE)), {});
  return { script, out, parsed, infoFile, sh };
}

const STORE_FILE = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-disk-image/nixos.img";

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

  it("prints the image-info document, the build time and the file's SHA-512 on stdout, and stops at the first failure", () => {
    const { script, parsed, infoFile, sh } = runBuildScript("the image bytes");
    assert.match(script, /^set -eu\n/);
    assert.equal(parsed.info.format, "raw");
    assert.match(parsed.builtAt, /^20\d\d-\d\d-\d\d \d\d:\d\d$/);
    assert.equal(parsed.sha512, createHash("sha512").update("the image bytes").digest("hex"));
    // An image-info.json that names no file stops the script: nothing to hash.
    writeFileSync(infoFile, "{}");
    assert.throws(sh, /names no file/);
  });

  it("takes the build time from the store path's registration, so a rebuild of the same path keeps its date", () => {
    // A `nix` on PATH that answers path-info as Nix does: registered 2026-01-02 03:04:05 UTC.
    const bin = mkdtempSync(path.join(tmpdir(), "nci-nix-"));
    writeFileSync(
      path.join(bin, "nix"),
      `#!/bin/sh\nprintf '[{"path":"%s","registrationTime":1767323045,"narSize":1}]' "$5"\n`,
      { mode: 0o755 },
    );
    const { parsed } = runBuildScript("bytes", { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    assert.equal(parsed.builtAt, "2026-01-02 03:04");
  });

  it("refuses build output without a build time or without a SHA-512 of 128 hex digits", () => {
    const info = fakeImageInfo(1024);
    assert.throws(() => parseBuildOutput(info, {}), /output has no build time; received undefined/);
    assert.throws(
      () => parseBuildOutput(`{"builtAt":"2026-12-01 10:20","imageInfo":${info}}`, {}),
      /output has no SHA-512 of the image; received undefined/,
    );
    assert.throws(
      () => parseBuildOutput(fakeBuildOutput(info, "2026-12-01 10:20", "ab".repeat(63)), {}),
      /output has no SHA-512 of the image; received "(ab){63}"/,
    );
    assert.equal(parseBuildOutput(fakeBuildOutput(info), {}).sha512, FAKE_SHA512);
  });
});
