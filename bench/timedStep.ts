// How long one resource of the stack took in a `pulumi up`: from the engine's event that it starts to the one
// that it has its outputs (the step alone, without the program's start or the other resources).
import { performance } from "node:perf_hooks";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation/index.js";

/** Runs `pulumi up` and returns the seconds the resource named NAME took; fails if it had no step. */
export async function timedStep(stack: Stack, name: string): Promise<number> {
  let started = 0;
  let ended = 0;
  await stack.up({
    onEvent: (e: EngineEvent) => {
      if (e.resourcePreEvent?.metadata.urn.endsWith(`::${name}`)) started = performance.now();
      if (e.resOutputsEvent?.metadata.urn.endsWith(`::${name}`)) ended = performance.now();
    },
  });
  if (!started || !ended) throw new Error(`the up had no step for ${name}`);
  return (ended - started) / 1000;
}
