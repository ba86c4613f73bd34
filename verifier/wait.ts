// Waiting for SSH to come up: a TCP connection that answers with an SSH banner ("SSH-2.0-...").
import { connect } from "node:net";

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

/** Connects once and reads until a line starting with "SSH-" (servers may send other lines first). */
export function probeBanner(host: string, port: number, timeoutMs: number): Promise<BannerProbe> {
  return new Promise((resolve) => {
    let received = "";
    const socket = connect({ host, port });
    const finish = (result: BannerProbe) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ ok: false, error: received === "" ? "no answer" : "no SSH banner" }),
      Math.max(1, timeoutMs),
    );
    socket.on("data", (chunk) => {
      received += chunk.toString("latin1");
      const banner = received
        .split(/\r?\n/)
        .find((line, i, lines) => line.startsWith("SSH-") && i < lines.length - 1);
      if (banner !== undefined) finish({ ok: true, banner });
      else if (received.length > 8192) finish({ ok: false, error: "not an SSH server (no SSH banner)" });
    });
    socket.on("error", (error) => finish({ ok: false, error: describeNetError(error) }));
    socket.on("close", () => finish({ ok: false, error: "connection closed before the SSH banner" }));
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
