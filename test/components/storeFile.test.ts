// The script that brings the built file to this machine before an upload, run for real with sh and a stand-in
// nix-store on PATH.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { execa } from "execa";
import { storeFileScript } from "../../components/storeFile.ts";

describe("the store file check before an upload", () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "nci-storefile-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs the script with a nix-store that records its arguments and exits with `status`. */
  async function run(file: string, status: number) {
    const stub = path.join(dir, "nix-store");
    writeFileSync(stub, `#!/bin/sh\necho "$@" > ${dir}/args\nexit ${status}\n`);
    chmodSync(stub, 0o755);
    const script = storeFileScript(file, { substituters: "http://cache.example" });
    return execa("sh", ["-c", script], { env: { PATH: `${dir}:${process.env.PATH}` }, reject: false });
  }

  it("does nothing when the file is here", async () => {
    const file = path.join(dir, "nixos.img");
    writeFileSync(file, "");
    const result = await run(file, 1);
    assert.deepEqual([result.exitCode, result.stderr], [0, ""]);
    assert.throws(() => readFileSync(path.join(dir, "args")), /ENOENT/, "nix-store never ran");
  });

  it("realises a missing store path through the substituters nixOptions names", async () => {
    const result = await run("/nix/store/00000000000000000000000000000000-none/nixos.img", 0);
    assert.equal(result.exitCode, 0);
    assert.match(result.stderr, /is not in this machine's Nix store: realising it/);
    assert.equal(
      readFileSync(path.join(dir, "args"), "utf8").trim(),
      "--realise /nix/store/00000000000000000000000000000000-none --option substituters http://cache.example",
    );
  });

  it("says exactly what to do when it cannot be realised, and fails before the upload", async () => {
    const result = await run("/nix/store/00000000000000000000000000000000-none/nixos.img", 1);
    assert.equal(result.exitCode, 1);
    assert.match(
      result.stderr,
      /could not be realised here, so it cannot be uploaded: build it on this machine/,
    );
  });
});
