import assert from "node:assert/strict";
import { cpSync, mkdtempSync, rmSync, writeFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { buildIdentity, defaultSource } from "../../components/source.ts";

describe("buildIdentity", () => {
  let dir: string;
  const base = () => ({
    source: dir,
    kernelLatest: true,
    diskSize: 1024 as number | "auto",
    system: undefined as string | undefined,
    bootMode: undefined as string | undefined,
    channel: undefined as string | undefined,
    nixpkgs: undefined as string | undefined,
  });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "identity-"));
    cpSync(defaultSource(), dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("is the same when nothing changed", () => {
    assert.equal(buildIdentity(base()), buildIdentity(base()));
  });

  const changes: [string, (a: ReturnType<typeof base>) => void][] = [
    ["kernelLatest", (a) => (a.kernelLatest = false)],
    ["diskSize", (a) => (a.diskSize = 2048)],
    ["diskSize to auto", (a) => (a.diskSize = "auto")],
    ["system", (a) => (a.system = "aarch64-linux")],
    ["bootMode", (a) => (a.bootMode = "uefi")],
    ["channel", (a) => (a.channel = "nixos-unstable")],
    ["nixpkgs", (a) => (a.nixpkgs = "https://example.org/nixpkgs.tar.gz")],
    ["a nix source file", () => writeFileSync(path.join(dir, "default.nix"), "\n# changed\n", { flag: "a" })],
    ["a new nix source file", () => writeFileSync(path.join(dir, "extra.nix"), "{ }\n")],
  ];
  for (const [what, change] of changes) {
    it(`changes when ${what} changes`, () => {
      const before = buildIdentity(base());
      const args = base();
      change(args);
      assert.notEqual(buildIdentity(args), before);
    });
  }

  it("ignores result links and dot files, which are not inputs of the image", () => {
    const before = buildIdentity(base());
    symlinkSync("/nix/store/x", path.join(dir, "result"));
    writeFileSync(path.join(dir, ".notes"), "scratch");
    assert.equal(buildIdentity(base()), before);
  });

  it("follows the revision recorded in a local nixpkgs", () => {
    const nixpkgs = mkdtempSync(path.join(tmpdir(), "nixpkgs-"));
    try {
      writeFileSync(path.join(nixpkgs, ".git-revision"), "aaaa\n");
      const first = buildIdentity({ ...base(), nixpkgs });
      writeFileSync(path.join(nixpkgs, ".git-revision"), "bbbb\n");
      assert.notEqual(buildIdentity({ ...base(), nixpkgs }), first);
    } finally {
      rmSync(nixpkgs, { recursive: true });
    }
  });
});
