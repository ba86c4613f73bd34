import assert from "node:assert/strict";
import { NIX_DIR, nixEval, nixEvalError, nixString } from "../support/nix.ts";

const CHANNELS = "https://nixos.org/channels";

/** nix/channel.nix for the given inputs. */
function channel(inputs: { channel?: string; release?: string; versionSuffix: string; branch?: string }) {
  const str = (v: string | undefined) => (v === undefined ? "null" : nixString(v));
  return `import ${nixString(`${NIX_DIR}/channel.nix`)} {
    channel = ${str(inputs.channel)};
    release = ${str(inputs.release ?? "26.05")};
    versionSuffix = ${str(inputs.versionSuffix)};
    branch = ${str(inputs.branch)};
  }`;
}

describe("The channel of an image (nix/channel.nix)", () => {
  const cases: [string, Parameters<typeof channel>[0], string][] = [
    [
      "is nixos-unstable for an unstable channel's tree, which already names the next release",
      { release: "26.05", versionSuffix: "pre912345.abcdef0" },
      `${CHANNELS}/nixos-unstable`,
    ],
    [
      "is the release's channel for a release branch's tree",
      { release: "25.11", versionSuffix: ".912345.abcdef0" },
      `${CHANNELS}/nixos-25.11`,
    ],
    [
      "is the pin's branch for the pin, whose GitHub tarball records no suffix",
      { release: "25.11", versionSuffix: "pre-git", branch: "nixos-25.11" },
      `${CHANNELS}/nixos-25.11`,
    ],
    [
      "is the channel argument when given, as a name",
      { release: "26.05", versionSuffix: "pre-git", channel: "nixos-unstable-small" },
      `${CHANNELS}/nixos-unstable-small`,
    ],
    [
      "is the channel argument when given, as a URL, over anything derived",
      { release: "25.11", versionSuffix: ".1.abc", branch: "nixos-25.11", channel: "https://example.org/c" },
      "https://example.org/c",
    ],
  ];
  for (const [what, inputs, expected] of cases) {
    it(`${what}.`, async () => assert.equal(await nixEval(channel(inputs)), expected));
  }

  it("is required for a git checkout or GitHub tarball, which cannot tell a release branch from unstable.", async () => {
    const error = await nixEvalError(channel({ release: "26.05", versionSuffix: "pre-git" }));
    assert.ok(
      error.includes(
        'The "channel" argument must be given for this nixpkgs: its version "26.05pre-git" does not tell a release branch (channel nixos-26.05) from unstable',
      ),
      error,
    );
    assert.match(error, /Pass --argstr channel nixos-26\.05 or --argstr channel nixos-unstable/);
  });
});
