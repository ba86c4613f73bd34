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

/** What is running now, by what it is called, newest last: a signal stops every one of them. */
const running = new Map<symbol, { what: string; stop: () => void }>();

function onSignal(signal: NodeJS.Signals): void {
  // Newest first: a later service may depend on an earlier one (hosts on their cloud).
  for (const { what, stop } of [...running.values()].reverse()) {
    process.stderr.write(`\n${signal}: stopping ${what}\n`);
    try {
      stop();
    } catch (error) {
      process.stderr.write(`stopping ${what} failed: ${String(error)}\n`);
    }
  }
  process.exit(signal === "SIGINT" ? 130 : 143);
}

/**
 * On SIGINT or SIGTERM: says what it stops, runs `stop` (with every other registered stop: a test file may
 * run a cloud and hosts of its own at once), and exits as the signal would have (130, 143). Returns the
 * function that removes it again, for the orderly stop.
 */
export function stopOnSignal(what: string, stop: () => void): () => void {
  const key = Symbol(what);
  if (running.size === 0) {
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }
  running.set(key, { what, stop });
  return () => {
    running.delete(key);
    if (running.size > 0) return;
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  };
}
