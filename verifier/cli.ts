// nixos-image-verify: parse the command line, read the key, verify, print, set the exit code.
import { readFile } from "node:fs/promises";
import { parseArgs, usage, UsageError } from "./args.ts";
import type { CliOptions } from "./args.ts";
import { exitCodeFor, exitCodes, formatHuman, formatJson } from "./report.ts";
import { verify } from "./verify.ts";
import { removeAllWorkspacesSync } from "./workspace.ts";

const program = "nixos-image-verify";

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) {
    throw new UsageError('The "--identity" option is "-" but stdin is a terminal: pipe the private key in.');
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const key = Buffer.concat(chunks).toString("utf8");
  if (key.trim() === "")
    throw new UsageError('The "--identity" option is "-" but stdin was empty: pipe the private key in.');
  return key;
}

async function readPrivateKey(identity: string): Promise<string> {
  if (identity === "-") return readStdin();
  try {
    return await readFile(identity, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new UsageError(
      `The "--identity" option must name a readable private key file: ${JSON.stringify(identity)} (${code}).`,
    );
  }
}

async function run(options: CliOptions): Promise<number> {
  const report = await verify({
    host: options.host,
    port: options.port,
    user: options.user,
    privateKey: await readPrivateKey(options.identity),
    keySource: options.identity === "-" ? "the key read from stdin" : JSON.stringify(options.identity),
    timeoutSeconds: options.timeoutSeconds,
    ...(options.hostKeyFingerprint === undefined ? {} : { hostKeyFingerprint: options.hostKeyFingerprint }),
    ...(options.expectKernel === undefined ? {} : { expectKernel: options.expectKernel }),
    expectFiles: options.expectFiles,
    ...(options.minRootSizeBytes === undefined ? {} : { minRootSizeBytes: options.minRootSizeBytes }),
    ...(options.proxyJump === undefined ? {} : { proxyJump: options.proxyJump }),
    onProgress: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(options.json ? formatJson(report) : formatHuman(report));
  return exitCodeFor(report);
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const parsed = parseArgs(argv);
    if (parsed.help) {
      process.stdout.write(`${usage}\n`);
      return exitCodes.ok;
    }
    return await run(parsed.options);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${program}: ${error.message}\nRun "${program} --help" for usage.\n`);
      return exitCodes.usage;
    }
    process.stderr.write(`${program}: ${error instanceof Error ? error.message : String(error)}\n`);
    return exitCodes.checkFailed;
  }
}

// The key's temp dir is removed in a finally block; these cover being interrupted before it runs.
process.on("exit", removeAllWorkspacesSync);
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const) {
  process.once(signal, () => {
    removeAllWorkspacesSync();
    process.exit(code);
  });
}

process.exitCode = await main(process.argv.slice(2));
