#!/usr/bin/env node
// The verifier is TypeScript; tsx runs it directly so the command works right after `npm ci`, with no build step to forget.
// The Node check comes first and the rest is imported only after it: on an old Node, one line instead of a
// dependency's stack trace (static imports would be loaded before the check runs).
import "./node-check.mjs";

const { register } = await import("tsx/esm/api");
register();
await import("../verifier/cli.ts");
