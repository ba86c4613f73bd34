import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { createWorkspace, removeAllWorkspacesSync } from "../../verifier/workspace.ts";

const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-a-real-key\n-----END OPENSSH PRIVATE KEY-----";

describe("verifier/workspace", () => {
  it("Writes the key mode 0600 in a 0700 directory, and the known_hosts file mode 0600", async () => {
    const workspace = await createWorkspace(key);
    try {
      assert.equal((await stat(workspace.dir)).mode & 0o777, 0o700);
      assert.equal((await stat(workspace.keyFile)).mode & 0o777, 0o600);
      assert.equal((await stat(workspace.knownHostsFile)).mode & 0o777, 0o600);
    } finally {
      await workspace.remove();
    }
  });

  it("Adds the final newline OpenSSH needs", async () => {
    const workspace = await createWorkspace(key);
    try {
      assert.equal(await readFile(workspace.keyFile, "utf8"), `${key}\n`);
    } finally {
      await workspace.remove();
    }
  });

  it("Removes the directory with the key", async () => {
    const workspace = await createWorkspace(key);
    await workspace.remove();
    assert.equal(existsSync(workspace.dir), false);
  });

  it("Removes every live workspace for signal handlers", async () => {
    const workspaces = [await createWorkspace(key), await createWorkspace(key)];
    removeAllWorkspacesSync();
    assert.deepEqual(
      workspaces.map((w) => existsSync(w.dir)),
      [false, false],
    );
  });
});
