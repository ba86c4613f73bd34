// One test boot: sweep leftovers, make a key pair, a security group, a port, the server (and a floating IP),
// pin the host key the console prints, run the verifier, and delete everything again, whatever happened.
import { execa } from "execa";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import type { Report } from "../../verifier/report.ts";
import {
  bootFinished,
  consoleFingerprints,
  consoleTail,
  fingerprintToPin,
  nothingToBoot,
} from "./console.ts";
import type { Cli } from "../program/openstackCli.ts";
import type { TestBootRequest } from "../program/request.ts";
import { describeFound, isEmpty, resourceName, sweep } from "./resources.ts";

const VERIFIER = fileURLToPath(new URL("../../bin/nixos-image-verify.js", import.meta.url));

/** The `verification` stack output: the verifier's report, what it ran on, and how long each part took. */
export interface TestBootReport extends Report {
  imageId: string;
  serverId: string;
  /** The pinned `SHA256:...` host key from the console, or null when the console printed none. */
  hostKeyPinned: string | null;
  /** What an interrupted earlier run had left and this run removed, or null. */
  leftoversRemoved: string | null;
  /** Seconds: server create to ACTIVE, to the end of the checks (boot + SSH + checks), cleanup, all. */
  timings: { serverActive: number; checked: number; cleanup: number; total: number };
  /** Set when these bytes had passed before (when and on which server): nothing booted this time. */
  alreadyVerified?: string;
}

export interface TestBootResult {
  report: TestBootReport;
  /** The last lines of the server's console log when a check failed. */
  consoleTail: string[];
}

export interface Dependencies {
  cli: Cli;
  /** Progress lines (stderr, streamed to `pulumi up`'s console). */
  log: (line: string) => void;
  /** Aborted on SIGINT/SIGTERM or when `pulumi up` goes away: stop making things, clean up, fail. */
  signal: AbortSignal;
  /** How often the console log is read while waiting for the host key fingerprints. Default 5 s. */
  consolePollMs?: number;
}

export class TestBootError extends Error {
  override name = "TestBootError";
}

const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10;
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });

function checkAborted(signal: AbortSignal): void {
  if (signal.aborted)
    throw new TestBootError(`interrupted (${String(signal.reason)}): nothing more is created`);
}

/** The port's address of the family of sshSourceCidr (the one the security group opens). */
function fixedAddress(port: { fixed_ips?: unknown }, ipv6: boolean): string {
  const fixed = Array.isArray(port.fixed_ips) ? (port.fixed_ips as { ip_address: string }[]) : [];
  const address = fixed.map((f) => f.ip_address).find((a) => a.includes(":") === ipv6);
  if (address === undefined) {
    throw new TestBootError(
      `the port on the network has no IPv${ipv6 ? 6 : 4} address (${JSON.stringify(fixed)}): give verify.networkName a network with such a subnet`,
    );
  }
  return address;
}

async function makeKey(): Promise<{ dir: string; privateKey: string; publicKey: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "nixos-image-testboot-"));
  const file = path.join(dir, "key");
  await execa("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "nixos-image-verify", "-f", file], {
    stdin: "ignore",
  });
  return { dir, privateKey: file, publicKey: `${file}.pub` };
}

/** Console reads that may fail in a row before the cloud's refusal is taken as its answer. */
const CONSOLE_TRIES = 3;

/** The host key to pin, or why there is none, or the firmware's word that nothing boots. */
type Pin = { fingerprint: string } | { missing: string } | { noBoot: string };

/** Reads the console until it shows host key fingerprints, or the end of the boot, or the deadline passes. */
async function awaitFingerprint(
  deps: Dependencies,
  serverId: string,
  deadline: number,
  timeout: number,
): Promise<Pin> {
  let failures = 0;
  for (;;) {
    let log = "";
    try {
      log = await deps.cli.text(["console", "log", "show", serverId], { signal: deps.signal });
      failures = 0;
    } catch (error) {
      if (deps.signal.aborted) return { missing: "interrupted" };
      const reason = (error as Error).message.trim();
      deps.log(`console: reading the server's console log failed: ${reason}`);
      if (++failures >= CONSOLE_TRIES)
        return { missing: `the server's console log could not be read (${failures} tries): ${reason}` };
    }
    const pin = fingerprintToPin(consoleFingerprints(log));
    if (pin) {
      deps.log(`console: the guest printed its host keys; pinning ${pin.type} ${pin.fingerprint}`);
      return { fingerprint: pin.fingerprint };
    }
    if (bootFinished(log))
      return { missing: "the guest finished booting without printing host key fingerprints" };
    const firmware = nothingToBoot(log);
    if (firmware !== undefined) return { noBoot: firmware };
    if (Date.now() >= deadline || deps.signal.aborted)
      return { missing: `the console showed no host key fingerprint within verify.timeout (${timeout} s)` };
    await sleep(deps.consolePollMs ?? 5000, deps.signal);
  }
}

/** A report of one failed check the test boot itself made, before the verifier would connect. */
function failedBefore(host: string, id: string, name: string, reason: string): Report {
  return { host, port: 22, user: "nixos", ok: false, checks: [{ id, name, ok: false, reason }] };
}

/** The firmware found nothing to boot. */
const noBootReport = (host: string, line: string) =>
  failedBefore(
    host,
    "boots",
    "the firmware found nothing to boot",
    `the console says "${line}": the image's boot mode (Glance hw_firmware_type) may not be the one the ` +
      "disk was built for (bootMode)",
  );

/** No host key could be pinned and one is required: the check fails, naming the setting. */
const unpinnedReport = (host: string, missing: string) =>
  failedBefore(
    host,
    "host-key-pinned",
    "host key not pinned",
    `${missing}; verify.requireHostKeyPin is true (the default), so SSH does not trust the first key it ` +
      "is shown. The NixOS image prints its keys to the console; for an image that does not, set " +
      "verify.requireHostKeyPin to false",
  );

async function runVerifier(
  req: TestBootRequest,
  host: string,
  keyFile: string,
  timeoutSeconds: number,
  pin: string | undefined,
  deps: Dependencies,
): Promise<Report> {
  const args = [VERIFIER, "--host", host, "--user", "nixos", "--identity", keyFile];
  args.push("--timeout", String(Math.max(10, Math.floor(timeoutSeconds))), "--json");
  if (pin !== undefined) args.push("--host-key-fingerprint", pin);
  if (req.sshProxyJump !== undefined) args.push("--proxy-jump", req.sshProxyJump);
  if (req.sshJumpConfig !== undefined) args.push("--jump-config", req.sshJumpConfig);
  if (req.expectKernel !== undefined) args.push("--expect-kernel", req.expectKernel);
  for (const file of req.expectFiles) args.push("--expect-file", file);
  const run = await execa(process.execPath, args, {
    reject: false,
    stdin: "ignore",
    stderr: ["pipe", "inherit"],
    cancelSignal: deps.signal,
  });
  checkAborted(deps.signal);
  if (run.exitCode === 2 || run.stdout === "") {
    throw new TestBootError(
      `the verifier did not run: ${String(run.stderr).trim() || `exit ${run.exitCode}`}`,
    );
  }
  return JSON.parse(String(run.stdout)) as Report;
}

/**
 * The whole test boot. Resolves with the report whether the checks passed or not; rejects when the boot
 * itself could not be done (a cloud error, an interruption). Either way, everything made is deleted first.
 */
export async function testBoot(req: TestBootRequest, deps: Dependencies): Promise<TestBootResult> {
  const { cli, log, signal } = deps;
  const started = performance.now();
  const name = resourceName(req.tag);
  const leftovers = await sweep(cli, req.tag);
  const leftoversRemoved = isEmpty(leftovers) ? null : describeFound(leftovers);
  if (leftoversRemoved !== null) {
    log(`removed what an interrupted test boot of ${req.owner} had left: ${leftoversRemoved}`);
  }
  const key = await makeKey();
  let keypair: Promise<unknown> | undefined;
  let failure: unknown;
  let result: TestBootResult | undefined;
  try {
    checkAborted(signal);
    const ipv6 = req.sshSourceCidr.includes(":");
    const purpose = `nixos-image-verify test boot of ${req.owner}, deleted when the check ends`;
    // The key pair goes at once with the group, its rule and the port (each call costs a second or two).
    keypair = cli.json(["keypair", "create", "--public-key", key.publicKey, name], { signal });
    keypair.catch(() => undefined); // awaited below, and before the cleanup when the other branch fails first
    const group = await cli.json<{ id: string }>(
      ["security", "group", "create", "--description", purpose, "--tag", name, name],
      { signal },
    );
    await cli.json(
      ["security", "group", "rule", "create", "--ingress", "--ethertype", ipv6 ? "IPv6" : "IPv4"].concat([
        "--protocol",
        "tcp",
        "--dst-port",
        "22",
        "--remote-ip",
        req.sshSourceCidr,
        group.id,
      ]),
      { signal },
    );
    const port = await cli.json<{ id: string; fixed_ips: unknown }>(
      ["port", "create", "--network", req.networkName, "--security-group", group.id, "--tag", name, name],
      { signal },
    );
    await keypair;
    let host = fixedAddress(port, ipv6);
    checkAborted(signal);
    const drive = req.configDrive ? ", config drive" : "";
    const bastion = req.sshProxyJump === undefined ? "" : `, through ${req.sshProxyJump}`;
    log(
      `booting ${name} from image ${req.imageId} (flavor ${req.flavorName}, network ${req.networkName}${drive}${bastion})`,
    );
    const bootStarted = performance.now();
    const deadline = Date.now() + req.timeout * 1000;
    const create = ["server", "create", "--image", req.imageId, "--flavor", req.flavorName];
    create.push("--port", port.id, "--key-name", name, "--property", `nixos-image-verify=${req.owner}`);
    // Without the flag the cloud decides (Nova's force_config_drive); the key then comes from the metadata service.
    if (req.configDrive) create.push("--config-drive", "True");
    const server = await cli
      .json<{ id: string; status: string }>([...create, "--wait", name], { signal })
      .catch(async (error: Error) => {
        // `server create --wait` says only "Error creating server"; Nova's fault says why.
        const fault = await cli
          .json<{ fault?: { message?: string } }>(["server", "show", name])
          .then((s) => s?.fault?.message)
          .catch(() => undefined);
        throw fault ? new TestBootError(`the server went to ERROR: ${fault}`) : error;
      });
    const serverActive = seconds(bootStarted);
    log(`server ${server.id} is ${server.status} after ${serverActive} s`);
    if (req.floatingIpPool !== undefined) {
      // Through the port (Neutron), not Nova's deprecated add-floating-ip action.
      const ip = await cli.json<{ floating_ip_address: string }>(
        ["floating", "ip", "create", "--port", port.id, "--description", purpose, "--tag", name].concat([
          req.floatingIpPool,
        ]),
        { signal },
      );
      host = ip.floating_ip_address;
      log(`floating IP ${host} from ${req.floatingIpPool} on the server's port`);
    }
    const found = await awaitFingerprint(deps, server.id, deadline, req.timeout);
    checkAborted(signal);
    let pin: string | undefined;
    let report: Report;
    if ("fingerprint" in found) pin = found.fingerprint;
    else if ("noBoot" in found) report = noBootReport(host, found.noBoot);
    else if (req.requireHostKeyPin) report = unpinnedReport(host, found.missing);
    else
      log(
        `console: ${found.missing}; not pinning: SSH trusts the first key (verify.requireHostKeyPin is false)`,
      );
    report ??= await runVerifier(req, host, key.privateKey, (deadline - Date.now()) / 1000, pin, deps);
    const checked = seconds(bootStarted);
    const tail = report.ok
      ? []
      : consoleTail(await cli.text(["console", "log", "show", server.id]).catch((e) => String(e)));
    result = {
      report: {
        ...report,
        imageId: req.imageId,
        serverId: server.id,
        hostKeyPinned: pin ?? null,
        leftoversRemoved,
        timings: { serverActive, checked, cleanup: 0, total: 0 },
      },
      consoleTail: tail,
    };
  } catch (error) {
    failure = error;
  }
  await keypair?.catch(() => undefined); // made or not, before the sweep looks for it
  await rm(key.dir, { recursive: true, force: true });
  // Not tied to the abort signal: the cleanup must run to the end, also after an interruption.
  const cleanupStarted = performance.now();
  try {
    const deleted = await sweep(cli, req.tag);
    log(`deleted ${isEmpty(deleted) ? "nothing (nothing was made)" : describeFound(deleted)}`);
  } catch (error) {
    throw new TestBootError(
      `deleting the test boot's resources (named ${name}) failed: ${(error as Error).message}; the next run retries${failure ? `. It had failed before: ${(failure as Error).message}` : ""}`,
    );
  }
  if (failure !== undefined || result === undefined) throw failure;
  result.report.timings.cleanup = seconds(cleanupStarted);
  result.report.timings.total = seconds(started);
  return result;
}

/** The failure message: the verifier's reasons, then the tail of the console. */
export function failureMessage(result: TestBootResult): string {
  const failed = result.report.checks.filter((c) => !c.ok);
  return [
    `The image ${result.report.imageId} failed verification on server ${result.report.serverId}: ${failed.map((c) => c.name).join(", ")}.`,
    ...failed.map((c) => `  ${c.name}: ${c.reason}`),
    `Console log of the server (last ${result.consoleTail.length} lines):`,
    ...result.consoleTail.map((l) => `  | ${l}`),
    "The image was never promoted and is deleted; the previous generation is untouched. `pulumi up --refresh` uploads this build again.",
  ].join("\n");
}
