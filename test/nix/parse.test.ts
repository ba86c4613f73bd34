import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import * as path from "node:path";
import { nix, ROOT } from "../support/nix.ts";

/** Every .nix file under `dir`, relative to the repository root. */
function nixFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".nix"))
    .map((f) => path.join(dir, f))
    .sort();
}

describe("Nix files", () => {
  const files = [...nixFiles("nix"), ...nixFiles("test/fixtures")];

  it("Both nix/ and test/fixtures hold Nix files.", () => {
    assert.ok(files.includes("nix/default.nix"));
    assert.ok(files.includes("test/fixtures/image/default.nix"));
  });

  for (const file of files) {
    it(`${file} parses.`, async () => {
      const result = await nix("nix-instantiate", ["--parse", file]);
      assert.equal(result.exitCode, 0, result.stderr);
    });
  }
});
