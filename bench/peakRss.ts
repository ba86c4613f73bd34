// Samples the peak resident memory (VmHWM) of every process whose command line matches, while a task runs.
import { readdirSync, readFileSync } from "node:fs";

function sample(match: RegExp, peaks: Map<number, number>): void {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (!match.test(cmdline)) continue;
      const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1] ?? 0);
      peaks.set(Number(entry), Math.max(peaks.get(Number(entry)) ?? 0, kb));
    } catch {
      // The process ended between listing and reading: its last sample stands.
    }
  }
}

/** Runs `task` and returns its result with the highest VmHWM (MiB) seen among matching processes. */
export async function withPeakRss<T>(
  match: RegExp,
  task: () => Promise<T>,
): Promise<{ result: T; peakMiB: number }> {
  const peaks = new Map<number, number>();
  const timer = setInterval(() => sample(match, peaks), 100);
  try {
    const result = await task();
    return { result, peakMiB: Math.max(0, ...peaks.values()) / 1024 };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Runs `task` and returns its result with the highest sum of resident memory (VmRSS, MiB) seen at one
 * moment across the processes whose command line `match` accepts: the memory of a whole tier at its peak.
 */
export async function withPeakTotalRss<T>(
  match: (cmdline: string) => boolean,
  task: () => Promise<T>,
): Promise<{ result: T; peakMiB: number }> {
  let peakKb = 0;
  const timer = setInterval(() => {
    let kb = 0;
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (!match(readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " "))) continue;
        kb += Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${entry}/status`, "utf8"))?.[1] ?? 0);
      } catch {
        // The process ended between listing and reading.
      }
    }
    peakKb = Math.max(peakKb, kb);
  }, 500);
  try {
    const result = await task();
    return { result, peakMiB: peakKb / 1024 };
  } finally {
    clearInterval(timer);
  }
}
