import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { buildScript, nixBuildArgs } from "../../components/build.ts";
import { resolveArgs } from "../../components/validate.ts";
import { shellQuote } from "../../components/shell.ts";

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

  it("prints only the image-info document on stdout and stops at the first failure", () => {
    const script = buildScript(resolveArgs({}), "gc/link");
    assert.match(script, /^set -eu\n/);
    assert.match(script, /\ncat "\$out\/nix-support\/image-info.json"$/);
  });
});
