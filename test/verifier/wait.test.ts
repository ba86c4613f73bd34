import assert from "node:assert/strict";
import { createServer } from "node:net";
import type { Server } from "node:net";
import { freePort } from "../support/sshd.ts";
import { probeBanner, progressReporter } from "../../verifier/wait.ts";

async function serve(reply: string): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end(reply));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port };
}

describe("verifier/wait", () => {
  describe("probeBanner", () => {
    it("Reports a refused connection on a closed port", async () => {
      assert.deepEqual(await probeBanner("127.0.0.1", await freePort(), 1000), {
        ok: false,
        error: "connection refused",
      });
    });

    it("Reports a server that is not SSH", async () => {
      const { server, port } = await serve("HTTP/1.1 400 Bad Request\r\n\r\n");
      try {
        assert.deepEqual(await probeBanner("127.0.0.1", port, 1000), {
          ok: false,
          error: "connection closed before the SSH banner",
        });
      } finally {
        server.close();
      }
    });

    it("Returns the SSH banner, skipping lines a server may send first", async () => {
      const { server, port } = await serve("Welcome\r\nSSH-2.0-OpenSSH_9.6\r\n");
      try {
        assert.deepEqual(await probeBanner("127.0.0.1", port, 1000), {
          ok: true,
          banner: "SSH-2.0-OpenSSH_9.6",
        });
      } finally {
        server.close();
      }
    });
  });

  it("Prints progress at most every 10 seconds", () => {
    let now = 1_000_000;
    const printed: string[] = [];
    const progress = progressReporter(
      "10.0.0.5:22",
      300,
      (line) => printed.push(line),
      10_000,
      () => now,
    );
    for (let second = 0; second <= 25; second++) {
      progress("connection refused");
      now += 1000;
    }
    assert.deepEqual(printed, [
      "waiting for 10.0.0.5:22 (0s/300s, connection refused)...",
      "waiting for 10.0.0.5:22 (10s/300s, connection refused)...",
      "waiting for 10.0.0.5:22 (20s/300s, connection refused)...",
    ]);
  });
});
