#!/usr/bin/env node
// The component's test boot and promotion (see testboot/cli.ts); tsx runs the TypeScript, as for the verifier.
import { register } from "tsx/esm/api";

register();
await import("../testboot/cli.ts");
