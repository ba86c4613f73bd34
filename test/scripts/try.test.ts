// scripts/try.sh's first seconds, without installing or starting anything: a copy of the script alone in a
// temporary directory stands for a checkout, so a trial in this checkout is never touched.
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

const TRY = fileURLToPath(new URL("../../scripts/try.sh", import.meta.url));

describe("scripts/try.sh, before anything slow", function () {
  let dir: string;
  const run = (args: string[], env: Record<string, string> = {}) =>
    execa(path.join(dir, "scripts/try.sh"), args, { cwd: dir, reject: false, env, timeout: 30_000 });

  before(function () {
    // Not root, it runs itself again with sudo, which may ask for a password.
    if (process.getuid?.() !== 0) this.skip();
    dir = mkdtempSync(path.join(tmpdir(), "nci-try-unit-"));
    mkdirSync(path.join(dir, "scripts"));
    copyFileSync(TRY, path.join(dir, "scripts/try.sh"));
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));

  it("--remove with no trial started says so and succeeds", async () => {
    const result = await run(["--remove"]);
    assert.equal(result.exitCode, 0);
    assert.match(result.stderr, /nothing to remove: no trial was started in this checkout/);
  });

  it("without a reachable binary cache, refuses within seconds and offers --fixture", async () => {
    const started = Date.now();
    const result = await run([], { NCI_NIXPKGS_PROBE: "http://127.0.0.1:9/nix-cache-info" });
    assert.equal(result.exitCode, 1);
    assert.match(
      result.stderr,
      /^try: the NixOS binary cache .* cannot be reached .*`scripts\/try\.sh --fixture`/m,
    );
    assert.equal(result.stderr.trim().split("\n").length, 1, "one line");
    assert.ok(Date.now() - started < 10_000);
  });

  it("an unknown option is named, with the ones there are", async () => {
    const result = await run(["--fixtures"]);
    assert.equal(result.exitCode, 1);
    assert.equal(result.stderr, "try: unknown option --fixtures (expected --fixture, --remove or --help)");
  });
});
