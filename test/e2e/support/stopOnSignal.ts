// Whoever starts a local cloud (a test file, the benchmark) also stops it on Ctrl-C or SIGTERM: an interrupted
// run must not leave Keystone, Glance or a compute cloud running.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const STOP = fileURLToPath(new URL("../../../scripts/localcloud/stop.sh", import.meta.url));

/**
 * Stops and purges the cloud of STATE at once (a signal handler cannot wait for a promise). `starting`, the
 * start.sh of it, is told to stop first in case it still runs: it holds the lock stop.sh would wait for.
 */
export function stopCloudSync(state: string, starting?: { kill(signal: NodeJS.Signals): boolean }): void {
  starting?.kill("SIGTERM");
  spawnSync(STOP, ["--purge", state], { stdio: "inherit" });
}

/**
 * On SIGINT or SIGTERM: says what it stops, runs `stop`, and exits as the signal would have (130, 143).
 * Returns the function that removes the handlers again, for the orderly stop.
 */
export function stopOnSignal(what: string, stop: () => void): () => void {
  const handler = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: stopping ${what}\n`);
    stop();
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", handler);
  process.once("SIGTERM", handler);
  return () => {
    process.removeListener("SIGINT", handler);
    process.removeListener("SIGTERM", handler);
  };
}
