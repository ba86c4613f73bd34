import assert from "node:assert/strict";
import { classifySsh, parseAuthMethods, sshArgs, sshMessage } from "../../verifier/ssh.ts";

// Trimmed from real `ssh -v` runs against OpenSSH 9.2 (the lines end in \r, as ssh writes them).
const verboseRefusal = [
  "OpenSSH_9.2p1 Debian-2+deb12u10, OpenSSL 3.0.19 27 Jan 2026\r",
  "debug1: Reading configuration data /dev/null\r",
  "debug1: Authentications that can continue: publickey,password,keyboard-interactive\r",
  "debug1: No more authentication methods to try.\r",
  "nixos@10.0.0.5: Permission denied (publickey,password,keyboard-interactive).",
].join("\n");

const target = {
  host: "10.0.0.5",
  port: 2222,
  keyFile: "/tmp/nixos-image-verify-x/identity",
  knownHostsFile: "/tmp/nixos-image-verify-x/known_hosts",
  strictHostKeyChecking: "accept-new" as const,
};

describe("verifier/ssh", () => {
  describe("parseAuthMethods", () => {
    const cases: { title: string; stderr: string; methods: string[] | undefined }[] = [
      {
        title: "Finds nothing in a network error",
        stderr: "ssh: connect to host 10.0.0.5 port 22: Connection refused",
        methods: undefined,
      },
      {
        title: "Reads the first list of `ssh -v`",
        stderr: verboseRefusal,
        methods: ["publickey", "password", "keyboard-interactive"],
      },
      {
        title: "Prefers the first list to later partial-success lists",
        stderr:
          "debug1: Authentications that can continue: publickey,password\r\ndebug1: Authentications that can continue: publickey\r\n",
        methods: ["publickey", "password"],
      },
      {
        title: "Falls back to the Permission denied line",
        stderr: "root@h: Permission denied (publickey).",
        methods: ["publickey"],
      },
    ];
    for (const { title, stderr, methods } of cases) {
      it(title, () => assert.deepEqual(parseAuthMethods(stderr), methods));
    }
  });

  describe("classifySsh", () => {
    const run = (exitCode: number, stderr: string, stdout = "") =>
      classifySsh({ exitCode, stdout, stderr, timedOut: false });
    const cases: { title: string; result: ReturnType<typeof classifySsh>; kind: string }[] = [
      {
        title: "a refused connection is a network error",
        result: run(255, "ssh: connect to host 10.0.0.5 port 22: Connection refused"),
        kind: "network",
      },
      {
        title: "a connect timeout is a network error",
        result: run(255, "ssh: connect to host 10.0.0.5 port 22: Connection timed out"),
        kind: "network",
      },
      {
        title: "a connection closed during key exchange is a network error",
        result: run(255, "kex_exchange_identification: Connection closed by remote host"),
        kind: "network",
      },
      {
        title: "a timed-out run is a network error",
        result: classifySsh({ exitCode: 255, stdout: "", stderr: "", timedOut: true }),
        kind: "network",
      },
      {
        title: "a changed host key is a host key rejection",
        result: run(
          255,
          "@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.",
        ),
        kind: "host-key-rejected",
      },
      {
        title: "Permission denied is an authentication refusal",
        result: run(255, verboseRefusal),
        kind: "auth-refused",
      },
      {
        title: "any other exit status is the remote command's",
        result: run(1, "sudo: a password is required"),
        kind: "ran",
      },
      { title: "exit 0 means the command ran", result: run(0, "", "0\n"), kind: "ran" },
    ];
    for (const { title, result, kind } of cases) {
      it(`Says ${title}`, () => assert.equal(result.kind, kind));
    }

    it("Keeps the offered methods of an authentication refusal", () => {
      assert.deepEqual(run(255, verboseRefusal), {
        kind: "auth-refused",
        methods: ["publickey", "password", "keyboard-interactive"],
        message: "nixos@10.0.0.5: Permission denied (publickey,password,keyboard-interactive).",
      });
    });
  });

  it("Leaves debug lines out of the message meant for people", () => {
    assert.equal(
      sshMessage(`debug1: x\r\nssh: connect to host h port 22: Connection refused\r\n`),
      "ssh: connect to host h port 22: Connection refused",
    );
  });

  describe("sshArgs", () => {
    const args = sshArgs(target, { user: "nixos", command: "true", connectTimeoutSeconds: 2.2 });
    const options = args.flatMap((arg, i) => (args[i - 1] === "-o" ? [arg] : []));

    it("Ignores every ssh config file, the agent and other identities", () => {
      assert.deepEqual(args.slice(0, 2), ["-F", "/dev/null"]);
      for (const option of [
        "BatchMode=yes",
        "IdentitiesOnly=yes",
        "IdentityAgent=none",
        "GlobalKnownHostsFile=/dev/null",
        "ControlPath=none",
      ]) {
        assert.ok(options.includes(option), option);
      }
    });

    it("Uses the throwaway known_hosts file, the key file and a whole-second ConnectTimeout", () => {
      assert.ok(options.includes(`UserKnownHostsFile=${target.knownHostsFile}`));
      assert.ok(options.includes(`IdentityFile=${target.keyFile}`));
      assert.ok(options.includes("StrictHostKeyChecking=accept-new"));
      assert.ok(options.includes("ConnectTimeout=3"));
    });

    it("Ends with -- so the host can never be read as an option", () => {
      assert.deepEqual(args.slice(-7), ["-p", "2222", "-l", "nixos", "--", "10.0.0.5", "true"]);
    });

    it("Turns on -v output only when asked", () => {
      assert.ok(options.includes("LogLevel=ERROR"));
      const verbose = sshArgs(target, {
        user: "root",
        command: "true",
        connectTimeoutSeconds: 1,
        verbose: true,
      });
      assert.ok(verbose.includes("LogLevel=DEBUG1"));
    });
  });
});
