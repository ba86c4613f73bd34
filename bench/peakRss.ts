// Samples the resident memory of the processes whose command line matches, while a task runs: the peak of
// each one (VmHWM), or the peak of their sum at one moment (VmRSS), the memory of a whole tier.
import { readdirSync, readFileSync } from "node:fs";

/** One reading of `field` (kB) per live process whose command line (NULs as spaces) `match` accepts. */
function readProcesses(match: (cmdline: string) => boolean, field: "VmHWM" | "VmRSS"): Map<number, number> {
  const kbs = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!match(readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " "))) continue;
      const status = readFileSync(`/proc/${entry}/status`, "utf8");
      kbs.set(Number(entry), Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0));
    } catch {
      // The process ended between listing and reading: its last sample stands.
    }
  }
  return kbs;
}

/** Runs `task` while `sample` is called every `ms`, then clears the timer. */
async function sampling<T>(sample: () => void, ms: number, task: () => Promise<T>): Promise<T> {
  const timer = setInterval(sample, ms);
  try {
    return await task();
  } finally {
    clearInterval(timer);
  }
}

/** Runs `task` and returns its result with the highest VmHWM (MiB) seen among matching processes. */
export async function withPeakRss<T>(
  match: RegExp,
  task: () => Promise<T>,
): Promise<{ result: T; peakMiB: number }> {
  const peaks = new Map<number, number>();
  const sample = () => {
    for (const [pid, kb] of readProcesses((c) => match.test(c), "VmHWM"))
      peaks.set(pid, Math.max(peaks.get(pid) ?? 0, kb));
  };
  const result = await sampling(sample, 100, task);
  return { result, peakMiB: Math.max(0, ...peaks.values()) / 1024 };
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
  const sample = () => {
    let kb = 0;
    for (const v of readProcesses(match, "VmRSS").values()) kb += v;
    peakKb = Math.max(peakKb, kb);
  };
  const result = await sampling(sample, 500, task);
  return { result, peakMiB: peakKb / 1024 };
}
