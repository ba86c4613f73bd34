// scripts/pulumi-tools.sh refuses to build from missing or altered upstream archives, before any build.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";

const SCRIPT = fileURLToPath(new URL("../../scripts/pulumi-tools.sh", import.meta.url));

describe("scripts/pulumi-tools.sh", function () {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), "nci-tools-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const run = (upstream: string) =>
    execa(SCRIPT, ["build"], {
      reject: false,
      env: { NCI_TOOLS_CACHE: path.join(dir, "cache"), NCI_UPSTREAM_DIR: upstream },
    });

  it("without the upstream archives, names each archive with its repository and tag", async () => {
    const { exitCode, stderr } = await run(path.join(dir, "missing"));
    assert.equal(exitCode, 1);
    assert.match(stderr, /pulumi-command-1\.2\.1\.tar\.gz is missing/);
    assert.match(stderr, /pulumi\/pulumi-command tag v1\.2\.1/);
    assert.match(stderr, /pulumi\/pulumi-openstack tag v3\.15\.2/);
    assert.match(stderr, /pulumi\/pulumi tag v3\.259\.0/);
    assert.match(stderr, /pulumi-language-python-3\.259\.0\.tar\.gz +pulumi\/pulumi tag v3\.259\.0/);
    assert.match(stderr, /pulumi-yaml-1\.38\.1\.tar\.gz +pulumi\/pulumi-yaml tag v1\.38\.1/);
    assert.match(stderr, /NCI_UPSTREAM_DIR/);
  });

  it("refuses an archive whose SHA-256 differs", async () => {
    const upstream = path.join(dir, "upstream");
    await execa("mkdir", [upstream]);
    writeFileSync(path.join(upstream, "pulumi-command-1.2.1.tar.gz"), "not the release\n");
    const { exitCode, stderr } = await run(upstream);
    assert.equal(exitCode, 1);
    assert.match(stderr, /pulumi-command-1\.2\.1\.tar\.gz has SHA-256 [0-9a-f]{64}, expected 88b26e9c[0-9a-f]+: refusing/);
  });
});
