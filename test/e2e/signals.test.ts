// Ctrl-C must not leave a local cloud running: a process that started one (as `npm run bench` and the
// engine tier's files do) stops it on SIGINT and SIGTERM and exits as the signal would have.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { processesNaming } from "./support/computeCloud.ts";

const STARTER = `
import { LocalCloud } from ${JSON.stringify(fileURLToPath(new URL("./support/localCloud.ts", import.meta.url)))};
const cloud = new LocalCloud();
await cloud.start();
console.log(cloud.state);
setInterval(() => undefined, 1000);
`;

describe("a local cloud's starter, interrupted", function () {
  this.timeout(300_000);
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(`${signal}: stops Keystone and Glance, purges the state dir, exits ${code}`, async () => {
      const child = spawn("node", ["--import", "tsx", "--input-type=module", "-e", STARTER], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      const state = await new Promise<string>((resolve, reject) => {
        child.stdout.once("data", (data: Buffer) => resolve(String(data).trim()));
        void exited.then((code) => reject(new Error(`the starter exited (${code}) before the cloud was up`)));
      });
      assert.ok(processesNaming(state).length >= 2, "Keystone and Glance run");
      child.kill(signal);
      assert.equal(await exited, code);
      assert.deepEqual(processesNaming(state), [], "nothing of the cloud runs");
      assert.throws(() => readdirSync(state), /ENOENT/, "the state dir is purged");
    });
  }

  it("SIGINT with two services registered (a cloud and the team's hosts): stops both, newest first", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "nci-signals-"));
    const stopper = fileURLToPath(new URL("./support/stopOnSignal.ts", import.meta.url));
    const child = spawn(
      "node",
      [
        "--import",
        "tsx",
        "--input-type=module",
        "-e",
        `import { appendFileSync } from "node:fs";
         import { stopOnSignal } from ${JSON.stringify(stopper)};
         for (const name of ["cloud", "hosts"])
           stopOnSignal(name, () => appendFileSync(${JSON.stringify(path.join(dir, "stopped"))}, name + "\\n"));
         console.log("ready");
         setInterval(() => undefined, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    await new Promise((resolve) => child.stdout.once("data", resolve));
    child.kill("SIGINT");
    try {
      assert.equal(await exited, 130);
      assert.deepEqual(readFileSync(path.join(dir, "stopped"), "utf8").split("\n"), ["hosts", "cloud", ""]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
