// Waiting for SSH to come up: a TCP connection that answers with an SSH banner ("SSH-2.0-..."), directly or
// through a bastion's forwarding (`ssh -W`).
import { spawn } from "node:child_process";
import { connect } from "node:net";
import type { Readable } from "node:stream";
import { hopArgs } from "./jump.ts";
import type { Jump } from "./jump.ts";

export type BannerProbe = { ok: true; banner: string } | { ok: false; error: string };

/** Short, human wording for the usual connection errors. */
export function describeNetError(error: NodeJS.ErrnoException): string {
  const known: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ECONNRESET: "connection reset",
    EHOSTUNREACH: "no route to host",
    ENETUNREACH: "network unreachable",
    ENOTFOUND: "host name not found",
    EAI_AGAIN: "host name lookup failed",
    ETIMEDOUT: "connection timed out",
  };
  return known[error.code ?? ""] ?? error.message;
}

/** Connects once (directly, or through `jump`) and reads until a line starting with "SSH-" (servers may send other lines first). */
export function probeBanner(
  host: string,
  port: number,
  timeoutMs: number,
  jump?: Jump,
): Promise<BannerProbe> {
  if (jump !== undefined) return probeThroughJump(jump, host, port, timeoutMs);
  const socket = connect({ host, port });
  return readBanner(
    socket,
    timeoutMs,
    () => socket.destroy(),
    (fail) => {
      socket.on("error", (error) => fail(describeNetError(error)));
      socket.on("close", () => fail("connection closed before the SSH banner"));
    },
  );
}

/** The hop's `ssh -W` carries the connection; when it ends before a banner, its message says why. */
function probeThroughJump(jump: Jump, host: string, port: number, timeoutMs: number): Promise<BannerProbe> {
  const child = spawn("ssh", hopArgs(jump, host, String(port)), {
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, LC_ALL: "C" },
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return readBanner(
    child.stdout,
    timeoutMs,
    () => child.kill(),
    (fail) => {
      child.on("error", (error) => fail(`ssh to the bastion ${error.message}`));
      child.on("close", () =>
        fail(
          `through the bastion: ${stderr.trim().split("\n").pop() || "the bastion closed the connection"}`,
        ),
      );
    },
  );
}

/** Reads `stream` until an SSH banner line; `onFailure` registers what ends the attempt without one. */
function readBanner(
  stream: Readable,
  timeoutMs: number,
  close: () => void,
  onFailure: (fail: (error: string) => void) => void,
): Promise<BannerProbe> {
  return new Promise((resolve) => {
    let received = "";
    let done = false;
    const finish = (result: BannerProbe) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      close();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ ok: false, error: received === "" ? "no answer" : "no SSH banner" }),
      Math.max(1, timeoutMs),
    );
    stream.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      const banner = received
        .split(/\r?\n/)
        .find((line, i, lines) => line.startsWith("SSH-") && i < lines.length - 1);
      if (banner !== undefined) finish({ ok: true, banner });
      else if (received.length > 8192) finish({ ok: false, error: "not an SSH server (no SSH banner)" });
    });
    onFailure((error) => finish({ ok: false, error }));
  });
}

/** Prints "waiting for H:P (12s/300s)..." at most every intervalMs. */
export function progressReporter(
  target: string,
  timeoutSeconds: number,
  print: ((line: string) => void) | undefined,
  intervalMs = 10_000,
  now: () => number = Date.now,
): (lastError: string) => void {
  const start = now();
  let lastPrinted: number | undefined;
  return (lastError) => {
    const time = now();
    if (print === undefined || (lastPrinted !== undefined && time - lastPrinted < intervalMs)) return;
    lastPrinted = time;
    const elapsed = Math.round((time - start) / 1000);
    print(`waiting for ${target} (${elapsed}s/${timeoutSeconds}s, ${lastError})...`);
  };
}
