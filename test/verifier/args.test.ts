import assert from "node:assert/strict";
import { parseArgs, parseSize, UsageError } from "../../verifier/args.ts";

const required = ["--host", "10.0.0.5", "--identity", "key"];

describe("verifier/args", () => {
  describe("bad usage names the flag, the rule and the value", () => {
    const cases: { title: string; argv: string[]; message: RegExp }[] = [
      { title: "--identity is required", argv: ["--host", "h"], message: /"--identity" option is required/ },
      { title: "--host is required", argv: ["--identity", "k"], message: /"--host" option is required/ },
      {
        title: "--port above 65535",
        argv: [...required, "--port", "70000"],
        message: /"--port" option must be an integer from 1 to 65535: "70000"/,
      },
      {
        title: "--port 0",
        argv: [...required, "--port=0"],
        message: /"--port" option must be an integer from 1 to 65535: "0"/,
      },
      { title: "--port not a number", argv: [...required, "--port", "ssh"], message: /"--port" .*: "ssh"/ },
      {
        title: "a fingerprint that is not SHA256",
        argv: [...required, "--host-key-fingerprint", "MD5:12:34"],
        message:
          /"--host-key-fingerprint" option must be "SHA256:" followed by 43 base64 characters.*: "MD5:12:34"/,
      },
      {
        title: "a SHA256 fingerprint of the wrong length",
        argv: [...required, "--host-key-fingerprint", "SHA256:abc"],
        message: /"--host-key-fingerprint" .*: "SHA256:abc"/,
      },
      {
        title: "--timeout 0",
        argv: [...required, "--timeout", "0"],
        message: /"--timeout" option must be a number of seconds greater than 0.*: "0"/,
      },
      {
        title: "--user root",
        argv: [...required, "--user", "root"],
        message: /"--user" option must be an unprivileged user/,
      },
      {
        title: "a user starting with a dash",
        argv: [...required, "--user=-oProxyCommand=x"],
        message: /"--user" option must be a user name/,
      },
      {
        title: "a host starting with a dash",
        argv: ["--host=-oProxyCommand=x", "--identity", "k"],
        message: /"--host" option must be a host name or an IP address/,
      },
      {
        title: "a relative --expect-file",
        argv: [...required, "--expect-file", "etc/x"],
        message: /"--expect-file" option must be an absolute path: "etc\/x"/,
      },
      {
        title: "a --min-root-size without a size",
        argv: [...required, "--min-root-size", "big"],
        message: /"--min-root-size" option must be a size/,
      },
      {
        title: "a flag without its value",
        argv: ["--host", "h", "--identity"],
        message: /"--identity" option needs a value/,
      },
      {
        title: "a flag followed by another flag",
        argv: ["--host", "h", "--identity", "--json"],
        message: /"--identity" option needs a value/,
      },
      {
        title: "a flag given twice",
        argv: [...required, "--port", "22", "--port", "23"],
        message: /"--port" option can be given only once/,
      },
      {
        title: "an unknown flag",
        argv: [...required, "--pasword", "x"],
        message: /Unknown option "--pasword"/,
      },
      { title: "a stray argument", argv: [...required, "extra"], message: /Unexpected argument "extra"/ },
      {
        title: "a bastion with a bad port",
        argv: [...required, "--proxy-jump", "ops@bastion:99999"],
        message: /"--proxy-jump" option must be \[user@\]host\[:port\] .*: "ops@bastion:99999"/,
      },
      {
        title: "a bastion with two users",
        argv: [...required, "--proxy-jump", "a@b@bastion"],
        message: /"--proxy-jump" option must be \[user@\]host\[:port\]/,
      },
      {
        title: "a jump config path the shell would split",
        argv: [...required, "--proxy-jump", "bastion", "--jump-config", "/home/me/my config"],
        message: /"--jump-config" option must be an absolute path .*: "\/home\/me\/my config"/,
      },
      {
        title: "--jump-config without --proxy-jump",
        argv: [...required, "--jump-config", "/etc/ssh/jump"],
        message: /"--jump-config" option needs "--proxy-jump"/,
      },
    ];
    for (const { title, argv, message } of cases) {
      it(`Rejects ${title}`, () => {
        assert.throws(
          () => parseArgs(argv),
          (error: unknown) => error instanceof UsageError && message.test(error.message),
        );
      });
    }
  });

  it("Fills in the documented defaults", () => {
    assert.deepEqual(parseArgs(required), {
      help: false,
      options: {
        host: "10.0.0.5",
        port: 22,
        user: "nixos",
        identity: "key",
        timeoutSeconds: 300,
        json: false,
        expectFiles: [],
      },
    });
  });

  it('Takes "-" as the value of --identity (stdin), in both spellings', () => {
    for (const argv of [
      ["--host", "h", "--identity", "-"],
      ["--host", "h", "--identity=-"],
    ]) {
      const parsed = parseArgs(argv);
      assert.equal(parsed.help === false && parsed.options.identity, "-");
    }
  });

  it("Reads every option, with --flag value and --flag=value", () => {
    const fingerprint = `SHA256:${"a".repeat(43)}`;
    const parsed = parseArgs([
      "--host=[fd00::5]",
      "--port",
      "2222",
      "--user=admin",
      "--identity",
      "/keys/id",
      "--timeout",
      "2.5",
      "--host-key-fingerprint",
      `${fingerprint}=`,
      "--expect-kernel",
      "6.6.30",
      "--expect-file",
      "/etc/nixos/configuration.nix",
      "--expect-file=/etc/os-release",
      "--min-root-size",
      "8G",
      "--proxy-jump",
      "ops@[fd00::1]:2201",
      "--jump-config=/etc/nci/jump_config",
      "--json",
    ]);
    assert.deepEqual(parsed, {
      help: false,
      options: {
        host: "fd00::5",
        port: 2222,
        user: "admin",
        identity: "/keys/id",
        timeoutSeconds: 2.5,
        hostKeyFingerprint: fingerprint,
        expectKernel: "6.6.30",
        expectFiles: ["/etc/nixos/configuration.nix", "/etc/os-release"],
        minRootSizeBytes: 8 * 1024 ** 3,
        proxyJump: { user: "ops", host: "fd00::1", port: 2201, configFile: "/etc/nci/jump_config" },
        json: true,
      },
    });
  });

  it("Returns help for --help whatever else is given", () => {
    assert.deepEqual(parseArgs(["--port", "1", "--help"]), { help: true });
  });

  describe("parseSize", () => {
    const cases: [string, number][] = [
      ["1024", 1024],
      ["512M", 512 * 1024 ** 2],
      ["8G", 8 * 1024 ** 3],
      ["8GiB", 8 * 1024 ** 3],
      ["1.5t", 1.5 * 1024 ** 4],
    ];
    for (const [text, bytes] of cases) {
      it(`Reads ${text} as ${bytes} bytes`, () => assert.equal(parseSize(text), bytes));
    }
  });
});
