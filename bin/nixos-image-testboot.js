#!/usr/bin/env node
// The component's test boot and promotion (see stages/program/main.ts); tsx runs the TypeScript, as for the verifier.
// The Node check comes first and the rest is imported only after it: on an old Node, one line instead of a
// dependency's stack trace (static imports would be loaded before the check runs).
import "./node-check.mjs";

const { register } = await import("tsx/esm/api");
register();
await import("../stages/program/main.ts");
