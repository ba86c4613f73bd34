import assert from "node:assert/strict";
import {
  authMethodResults,
  fileResult,
  kernelResult,
  keyLoginResult,
  parseDfSize,
  rootLoginResult,
  rootSizeResult,
  shellQuote,
  sudoResult,
} from "../../verifier/checks.ts";
import type { SshOutcome } from "../../verifier/ssh.ts";

const ran = (exitCode: number, stdout = "", stderr = ""): SshOutcome => ({
  kind: "ran",
  exitCode,
  stdout,
  stderr,
});
const refused = (methods: string[]): SshOutcome => ({
  kind: "auth-refused",
  methods,
  message: `Permission denied (${methods.join(",")}).`,
});
const network: SshOutcome = {
  kind: "network",
  message: "ssh: connect to host h port 22: Connection refused",
};

interface Case {
  title: string;
  outcome: SshOutcome;
  ok: boolean;
  name: string;
}

function table(check: (outcome: SshOutcome) => { ok: boolean; name: string }, cases: Case[]): void {
  for (const { title, outcome, ok, name } of cases) {
    it(`${ok ? "Passes" : "Fails"} when ${title}: "${name}"`, () => {
      const result = check(outcome);
      assert.equal(result.ok, ok);
      assert.equal(result.name, name);
    });
  }
}

describe("verifier/checks", () => {
  describe("key login", () => {
    table(
      (outcome) => keyLoginResult("nixos", outcome),
      [
        {
          title: "the server refuses the key",
          outcome: refused(["publickey"]),
          ok: false,
          name: "key login as nixos refused",
        },
        {
          title: "the login shell fails",
          outcome: ran(1, "", "This account is currently not available."),
          ok: false,
          name: "key login as nixos failed",
        },
        { title: "nothing answers", outcome: network, ok: false, name: "key login as nixos failed" },
        { title: "`true` runs", outcome: ran(0), ok: true, name: "key login as nixos" },
      ],
    );
  });

  describe("sudo", () => {
    table(
      (outcome) => sudoResult("nixos", outcome),
      [
        {
          title: "sudo asks for a password",
          outcome: ran(1, "", "sudo: a password is required\n"),
          ok: false,
          name: "sudo requires a password",
        },
        {
          title: "the user is not in sudoers",
          outcome: ran(1, "", "nixos is not in the sudoers file.\n"),
          ok: false,
          name: "sudo not allowed for nixos",
        },
        {
          title: "sudo is missing",
          outcome: ran(127, "", "sh: 1: sudo: not found\n"),
          ok: false,
          name: "sudo not installed",
        },
        {
          title: "sudo runs as someone else",
          outcome: ran(0, "1000\n"),
          ok: false,
          name: "sudo does not run as root",
        },
        {
          title: "the login was refused",
          outcome: refused(["publickey"]),
          ok: false,
          name: "sudo not checked",
        },
        {
          title: "`sudo -n id -u` prints 0",
          outcome: ran(0, "0\n"),
          ok: true,
          name: "passwordless sudo to root",
        },
      ],
    );
  });

  describe("root login", () => {
    table(rootLoginResult, [
      {
        title: "the server accepts the key for root",
        outcome: ran(0),
        ok: false,
        name: "root login allowed",
      },
      {
        title: "the server accepts it but the command fails",
        outcome: ran(1),
        ok: false,
        name: "root login allowed",
      },
      {
        title: "the connection fails (not a refusal)",
        outcome: network,
        ok: false,
        name: "root login refusal not checked",
      },
      {
        title: "the server refuses authentication",
        outcome: refused(["publickey"]),
        ok: true,
        name: "root login refused",
      },
    ]);
  });

  describe("authentication methods", () => {
    const cases: { title: string; outcome: SshOutcome; names: string[]; oks: boolean[] }[] = [
      {
        title: "password is offered",
        outcome: refused(["publickey", "password"]),
        names: ["password authentication offered", "keyboard-interactive authentication not offered"],
        oks: [false, true],
      },
      {
        title: "keyboard-interactive is offered",
        outcome: refused(["publickey", "keyboard-interactive"]),
        names: ["password authentication not offered", "keyboard-interactive authentication offered"],
        oks: [true, false],
      },
      {
        title: "no authentication is needed at all",
        outcome: ran(0),
        names: ["login without authentication allowed", "login without authentication allowed"],
        oks: [false, false],
      },
      {
        title: "nothing answers",
        outcome: network,
        names: ["password authentication not checked", "keyboard-interactive authentication not checked"],
        oks: [false, false],
      },
      {
        title: "only publickey is offered",
        outcome: refused(["publickey"]),
        names: ["password authentication not offered", "keyboard-interactive authentication not offered"],
        oks: [true, true],
      },
    ];
    for (const { title, outcome, names, oks } of cases) {
      it(`Reports ${names.join(" and ")} when ${title}`, () => {
        const results = authMethodResults(outcome);
        assert.deepEqual(
          results.map((r) => r.name),
          names,
        );
        assert.deepEqual(
          results.map((r) => r.ok),
          oks,
        );
        assert.deepEqual(
          results.map((r) => r.id),
          ["no-password-auth", "no-keyboard-interactive-auth"],
        );
      });
    }
  });

  describe("kernel", () => {
    table(
      (outcome) => kernelResult("6.6.30", outcome),
      [
        {
          title: "another kernel runs",
          outcome: ran(0, "6.1.0-18-amd64\n"),
          ok: false,
          name: "kernel mismatch",
        },
        { title: "the expected kernel runs", outcome: ran(0, "6.6.30\n"), ok: true, name: "kernel 6.6.30" },
      ],
    );
  });

  describe("expected file", () => {
    table(
      (outcome) => fileResult("/etc/nixos/configuration.nix", outcome),
      [
        {
          title: "the file is missing",
          outcome: ran(1),
          ok: false,
          name: "/etc/nixos/configuration.nix missing",
        },
        { title: "the file exists", outcome: ran(0), ok: true, name: "/etc/nixos/configuration.nix exists" },
      ],
    );

    it("Quotes the path for the remote shell", () => {
      assert.equal(shellQuote("/a b/it's"), `'/a b/it'\\''s'`);
    });
  });

  describe("root filesystem size", () => {
    const df = (kib: number) =>
      `Filesystem 1024-blocks Used Available Capacity Mounted on\n/dev/vda1 ${kib} 1 1 1% /\n`;
    table(
      (outcome) => rootSizeResult(8 * 1024 ** 3, outcome),
      [
        {
          title: "/ still has the image's size",
          outcome: ran(0, df(2 * 1024 ** 2)),
          ok: false,
          name: "root filesystem not grown",
        },
        {
          title: "df prints nothing usable",
          outcome: ran(0, "nonsense"),
          ok: false,
          name: "root filesystem size not checked",
        },
        {
          title: "/ was grown to the disk",
          outcome: ran(0, df(20 * 1024 ** 2)),
          ok: true,
          name: "root filesystem 20.0 GiB",
        },
      ],
    );

    it("Reads the size from POSIX df output", () => assert.equal(parseDfSize(df(1000)), 1000 * 1024));
  });
});
