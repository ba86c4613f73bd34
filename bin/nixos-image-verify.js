#!/usr/bin/env node
// The verifier is TypeScript; tsx runs it directly so the command works right after `npm ci`, with no build step to forget.
import { register } from "tsx/esm/api";

register();
await import("../verifier/cli.ts");
