// nixos-image-testboot: what the component's Commands run, one mode a stage. `verify` boots and checks the
// image and prints the report; `promote` checks the upload's SHA-512 and applies the image's visibility and
// metadata (in place, also later); `rotate` hides and deletes older generations; `new-family` prints a new
// family ID, `keep-family` the one in the state; `remove-family` ends the family (destroy). The request comes
// on stdin (see request.ts). Each stage's program side is stages/<stage>/run.ts, beside its declaration (declare.ts).
//
// The test boot runs in a session of its own, started by this process: when `pulumi up` is interrupted, the
// command provider kills the command it started (SIGKILL, which cannot be caught), and a runner in the same
// process could not clean up. The detached runner notices that its launcher is gone (or gets SIGINT/SIGTERM
// forwarded) and deletes what it made before it exits.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { newFamilyId } from "../family/run.ts";
import { removeFamily, rotate } from "../generations/run.ts";
import { openstackCli } from "./openstackCli.ts";
import { promote } from "../promote/run.ts";
import { FAMILY_ID } from "./marks.ts";
import {
  parseFamilyRequest,
  parseGenerationsRequest,
  parsePromoteRequest,
  parseTestBootRequest,
} from "./request.ts";
import { failureMessage, testBoot } from "../testboot/run.ts";
import { discardUploads, earlierVerdict, imageToVerify, recordPass } from "../testboot/verdict.ts";

const program = "nixos-image-testboot";
const CHILD_FLAG = "--detached-child";
const BIN = fileURLToPath(new URL("../../bin/nixos-image-testboot.js", import.meta.url));
const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
const MODES = ["verify", "promote", "rotate", "new-family", "keep-family", "remove-family"];

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const log = (line: string) => process.stderr.write(`${program}: ${line}\n`);

/** Starts the runner detached, hands it stdin, forwards signals, and exits with its status. */
async function launch(args: string[]): Promise<number> {
  const input = await readStdin();
  const child = spawn(process.execPath, [BIN, ...args, CHILD_FLAG], {
    detached: true,
    stdio: ["pipe", "inherit", "inherit"],
  });
  child.stdin.end(input);
  for (const signal of SIGNALS) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on("error", (error) => (log(`could not start the runner: ${error.message}`), resolve(1)));
  });
}

/** Aborted on a signal, or when the launcher (and so `pulumi up`'s command) is gone. */
function interruption(): AbortSignal {
  const controller = new AbortController();
  for (const signal of SIGNALS) {
    process.on(signal, () => {
      if (!controller.signal.aborted) log(`${signal}: stopping, deleting what was made`);
      controller.abort(signal);
    });
  }
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent && !controller.signal.aborted) {
      log("pulumi's command was stopped: deleting what was made");
      controller.abort("the command was stopped");
    }
  }, 500).unref();
  return controller.signal;
}

async function run(mode: string): Promise<number> {
  // Once pulumi is gone, its end of stdout/stderr may be closed: a failed write must not stop the cleanup.
  process.stdout.on("error", () => undefined);
  process.stderr.on("error", () => undefined);
  const signal = interruption();
  const input = await readStdin();
  // The command provider hands a Command its previous stdout (the family ID, the properties promotion set) here.
  const previous = process.env.PULUMI_COMMAND_STDOUT?.trim() || undefined;
  const print = (doc: unknown) => process.stdout.write(`${JSON.stringify(doc)}\n`);
  switch (mode) {
    case "new-family":
      process.stdout.write(newFamilyId());
      return 0;
    case "keep-family":
      // A settings change keeps the ID; without one in the state, a new ID would orphan every generation.
      if (previous === undefined || !FAMILY_ID.test(previous)) {
        throw new Error(
          `the family Command's state holds no family ID (${JSON.stringify(previous ?? "")}): nothing is changed. ` +
            "`pulumi refresh` does not restore it; `pulumi state` export/import can, or ask for help before going on.",
        );
      }
      process.stdout.write(previous);
      return 0;
    case "remove-family": {
      const req = parseFamilyRequest(input);
      if (previous === undefined || !FAMILY_ID.test(previous)) {
        // A rotation Command of an earlier version ends here too: its families were named after the stack.
        log(
          "no family ID in this Command's state: nothing is deleted. Images of an earlier version carry " +
            "nixos_cloud_image_family=<project>/<stack>/<component>; list them with `openstack image list " +
            "--property nixos_cloud_image_family=...` and delete them yourself",
        );
      } else print(await removeFamily(openstackCli(req.openstack), previous, req.uploadTimeoutMinutes, log));
      return 0;
    }
    case "promote": {
      const req = parsePromoteRequest(input);
      print(await promote(openstackCli(req.openstack), req, previous, log));
      return 0;
    }
    case "rotate": {
      const req = parseGenerationsRequest(input);
      print(await rotate(openstackCli(req.openstack), req, log));
      return 0;
    }
  }
  const req = parseTestBootRequest(input);
  const cli = openstackCli(req.openstack);
  const image = await imageToVerify(cli, req);
  if (image.verified !== undefined) {
    log(`image ${req.imageId}: these bytes passed before (${image.verified}); not booted again`);
    print(earlierVerdict(req, image.verified));
    return 0;
  }
  const result = await testBoot(req, { cli, log, signal });
  if (!result.report.ok) {
    await discardUploads(req, log);
    process.stderr.write(`${failureMessage(result)}\n`);
    return 1;
  }
  await recordPass(cli, result.report);
  log(`all ${result.report.checks.length} checks passed in ${result.report.timings.total} s`);
  print(result.report);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const mode = argv[0];
  if (!MODES.includes(mode)) {
    process.stderr.write(`Usage: ${program} ${MODES.join("|")} < request.json\n`);
    return 2;
  }
  if (!argv.includes(CHILD_FLAG)) return launch([mode]);
  try {
    return await run(mode);
  } catch (error) {
    log(error instanceof Error ? error.message : String(error));
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
// The interval that watches the launcher is unref'd; nothing else may keep the process alive.
process.exit();
