// Ctrl-C must not leave a local cloud running: a process that started one (as `npm run bench` and the
// engine tier's files do) stops it on SIGINT and SIGTERM and exits as the signal would have.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
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
});
