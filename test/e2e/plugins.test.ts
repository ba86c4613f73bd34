// The engine tier's plugins are the upstream ones, and the command provider behaves as the component
// relies on: checked with the real CLI and plugins on a small inline program, no cloud needed.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { execa } from "execa";
import * as pulumi from "@pulumi/pulumi";
import { local } from "@pulumi/command";
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import type { Stack } from "@pulumi/pulumi/automation/index.js";

describe("the engine tier's Pulumi plugins", function () {
  it("pulumi plugin ls shows the upstream command 1.2.1 and openstack 3.15.2", async () => {
    const { stdout } = await execa("pulumi", ["plugin", "ls", "--json"]);
    const plugins = (JSON.parse(stdout) as { name: string; kind: string; version: string }[])
      .filter((p) => p.kind === "resource")
      .map((p) => `${p.name} ${p.version}`)
      .sort();
    assert.deepEqual(plugins, ["command 1.2.1", "openstack 3.15.2"]);
  });

  it("the OpenStack provider embeds its 3.15.2 schema, with the resources the component uses", async () => {
    const { stdout } = await execa("pulumi", ["package", "get-schema", "openstack"], { maxBuffer: 1 << 30 });
    const schema = JSON.parse(stdout) as { version: string; resources: Record<string, unknown> };
    assert.equal(schema.version, "3.15.2");
    for (const token of [
      "openstack:images/image:Image",
      "openstack:compute/keypair:Keypair",
      "openstack:compute/instance:Instance",
      "openstack:networking/secGroup:SecGroup",
      "openstack:networking/floatingIp:FloatingIp",
    ])
      assert.ok(schema.resources[token], `${token} is in the schema`);
  });

  it("pulumi-language-nodejs is v3.259.0", async () => {
    const { stdout } = await execa("pulumi-language-nodejs", ["-version"]);
    assert.match(stdout, /^v?3\.259\.0$/m);
  });
});

describe("command 1.2.1's local.Command, as the component uses it", function () {
  let dir: string;
  let stack: Stack;
  // The program reads these, so each test changes the inputs it means to.
  let inputs = { trigger: "a", script: "first", secret: "s3cret-value-of-the-test" };

  const program = async () => {
    const marker = path.join(dir, "runs");
    const cmd = new local.Command(
      "probe",
      {
        // Records each run, echoes stdin and writes a line to stderr, like the build and verify commands.
        create: `echo ${inputs.script} >> ${marker}; echo "log line on stderr" >&2; cat`,
        stdin: pulumi.secret(inputs.secret),
        triggers: [inputs.trigger],
        logging: "stderr",
        addPreviousOutputInEnv: false,
      },
      { additionalSecretOutputs: ["stdout"] },
    );
    return { stdout: cmd.stdout };
  };

  const runs = () => {
    const file = path.join(dir, "runs");
    return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n") : [];
  };

  before(async function () {
    this.timeout(120_000);
    dir = mkdtempSync(path.join(tmpdir(), "nci-plugins-"));
    stack = await LocalWorkspace.createOrSelectStack(
      { stackName: "plugins", projectName: "nci-plugins", program },
      {
        workDir: dir,
        envVars: {
          PULUMI_BACKEND_URL: `file://${dir}`,
          PULUMI_CONFIG_PASSPHRASE: "plugins-test",
        },
      },
    );
  });

  after(async function () {
    this.timeout(120_000);
    await stack?.destroy().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("does not run during preview", async () => {
    await stack.preview();
    assert.deepEqual(runs(), []);
  });

  it("runs on create with stdin, streams stderr to the log, and keeps stdout and stdin secret in the state", async () => {
    let log = "";
    const { outputs } = await stack.up({ onOutput: (o) => (log += o) });
    assert.deepEqual(runs(), ["first"]);
    assert.equal(
      outputs.stdout.value,
      inputs.secret,
      "stdin reached the command; one trailing newline stripped",
    );
    assert.equal(outputs.stdout.secret, true);
    assert.match(log, /log line on stderr/);
    assert.ok(!log.includes(inputs.secret), "stdout is not logged");
    for (const file of readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()))
      assert.ok(
        !readFileSync(path.join(file.parentPath, file.name), "utf8").includes(inputs.secret),
        `${file.name} holds the secret in plain text`,
      );
  });

  it("does nothing when nothing changed", async () => {
    const { summary } = await stack.up();
    assert.deepEqual(Object.keys(summary.resourceChanges ?? {}), ["same"]);
    assert.deepEqual(runs(), ["first"]);
  });

  it("re-runs create in place when the script changes (no update command)", async () => {
    inputs = { ...inputs, script: "second" };
    const { summary } = await stack.up();
    assert.equal(summary.resourceChanges?.update, 1);
    assert.deepEqual(runs(), ["first", "second"]);
  });

  it("is replaced when a trigger changes", async () => {
    inputs = { ...inputs, trigger: "b" };
    const { summary } = await stack.up();
    assert.equal(summary.resourceChanges?.replace, 1);
    assert.deepEqual(runs(), ["first", "second", "second"]);
  });

  it("fails with the exit status, the command and its combined output", async () => {
    inputs = { ...inputs, script: "third; echo 'went wrong' >&2; exit 3" };
    await assert.rejects(stack.up(), (err: Error) => {
      assert.match(err.message, /exit status 3/);
      assert.match(err.message, /went wrong/);
      return true;
    });
  });
});
