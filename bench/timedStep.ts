// How long one resource of the stack took in a `pulumi up`: from the engine's event that it starts to the one
// that it has its outputs (the step alone, without the program's start or the other resources).
import { performance } from "node:perf_hooks";
import type { EngineEvent, Stack } from "@pulumi/pulumi/automation/index.js";

/** Runs `pulumi up` and returns the seconds the resource named NAME took; fails if it had no step. */
export async function timedStep(stack: Stack, name: string): Promise<number> {
  let started = 0;
  let ended = 0;
  let op: string | undefined;
  await stack.up({
    onEvent: (e: EngineEvent) => {
      // The resource's first step only: a replacement's later steps (replace, delete-replaced) take no time
      // of their own and would otherwise stand for it.
      const pre = e.resourcePreEvent?.metadata;
      if (pre?.urn.endsWith(`::${name}`) && op === undefined) [op, started] = [pre.op, performance.now()];
      const out = e.resOutputsEvent?.metadata;
      if (out?.urn.endsWith(`::${name}`) && out.op === op && !ended) ended = performance.now();
    },
  });
  if (!started || !ended) throw new Error(`the up had no step for ${name}`);
  return (ended - started) / 1000;
}
