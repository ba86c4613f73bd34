// bin/node-check.mjs: on a Node.js older than 22.12 every entry point (the bin/ commands the Pulumi Commands
// run, the Pulumi program, the test runner) stops with one line and a non-zero exit, never a stack trace.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { parse } from "yaml";
import { nodeProblem } from "../../bin/node-check.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OLD_NODE = fileURLToPath(new URL("../fixtures/old-node.mjs", import.meta.url));
const LINE =
  /^nixos-cloud-image: needs Node >= 22\.12; found v20\.20\.2 at \S+; run scripts\/try\.sh or install Node 22$/;

/** Runs node (this one, pretending to be v20.20.2 in it and in every node it starts) in the project. */
const onOldNode = (args: string[]) =>
  execa(process.execPath, args, {
    cwd: ROOT,
    reject: false,
    env: { NODE_OPTIONS: `--import=${OLD_NODE}` },
    timeout: 30_000,
  });

function assertRefused(result: { exitCode?: number; stdout: string; stderr: string }) {
  assert.notEqual(result.exitCode, 0);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, LINE, "exactly the one line");
}

describe("bin/node-check.mjs", () => {
  it("accepts 22.12 and later", () => {
    for (const version of ["22.12.0", "22.23.5", "23.0.0", "24.1.0"])
      assert.equal(nodeProblem(version), undefined);
  });

  it("names the version found, where it is, and what to do about it", () => {
    assert.equal(
      nodeProblem("20.20.2", "/usr/bin/node"),
      "needs Node >= 22.12; found v20.20.2 at /usr/bin/node; run scripts/try.sh or install Node 22",
    );
    assert.match(nodeProblem("22.11.0") ?? "", /found v22\.11\.0/);
    assert.match(nodeProblem("not-a-version") ?? "", /needs Node >= 22\.12/);
  });

  for (const [name, args] of [
    [
      "nixos-image-testboot (the Commands' test boot, rotation, family removal)",
      ["bin/nixos-image-testboot.js", "remove-family"],
    ],
    ["nixos-image-verify", ["bin/nixos-image-verify.js", "--help"]],
  ] as const) {
    it(`${name} refuses an old Node in one line`, async () => assertRefused(await onOldNode([...args])));
  }

  it("the Pulumi program (Pulumi.yaml's nodeargs, before any @pulumi import) refuses an old Node in one line", async () => {
    const nodeargs: string = parse(readFileSync(`${ROOT}/Pulumi.yaml`, "utf8")).runtime.options.nodeargs;
    assertRefused(await onOldNode([...nodeargs.split(/\s+/), "index.ts"]));
  });

  it("the test runner (mocha with the unit tier's config) refuses an old Node in one line", async () => {
    assertRefused(
      await onOldNode(["node_modules/mocha/bin/mocha.js", "--config", "test/.mocharc.unit.json"]),
    );
  });
});
