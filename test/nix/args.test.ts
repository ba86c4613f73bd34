import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { resolveArgs } from "../../components/resolve.ts";
import { DISK_SIZE_MAX, DISK_SIZE_MIN } from "../../components/settings.ts";
import { SYSTEMS } from "../../components/args.ts";
import { BOOT_MODES } from "../../components/imageInfo.ts";
import { FIXTURE_DIR, NIX_DIR, nix, nixEval, nixString, ROOT } from "../support/nix.ts";

/** The documented arguments of nix/default.nix and their defaults, as `nix-instantiate --parse` prints them. */
const DEFAULTS: Record<string, string> = {
  kernelLatest: "true",
  diskSize: '"auto"',
  nixpkgs: "null",
  system: "(builtins).currentSystem",
  bootMode: "null",
  channel: "null",
  extraModules: "[ ]",
};

/** The formals of the function a file evaluates to: name → default, as normalised by --parse. */
async function formals(file: string): Promise<Record<string, string>> {
  const parsed = (await nix("nix-instantiate", ["--parse", file])).stdout;
  const header = /^\(\{ (.*?) \}:/.exec(parsed);
  assert.ok(header, `${file} must be a function of an attribute set: ${parsed.slice(0, 200)}`);
  return Object.fromEntries(
    header[1].split(", ").map((formal) => {
      const [name, value] = formal.split(" ? ");
      return [name, value];
    }),
  );
}

describe("The arguments of nix/default.nix", () => {
  it("are the documented ones, each with a default.", async () => {
    const args = await nixEval(`builtins.functionArgs (import ${nixString(NIX_DIR)})`);
    assert.deepEqual(args, Object.fromEntries(Object.keys(DEFAULTS).map((name) => [name, true])));
  });

  it('default to kernelLatest = true, diskSize = "auto", nixpkgs = null, the current system, the system\'s boot mode, the derived channel and no extra modules.', async () => {
    assert.deepEqual(await formals("nix/default.nix"), DEFAULTS);
  });

  it("are each explained by a comment on the line above.", () => {
    for (const file of ["nix/default.nix", "test/fixtures/image/default.nix"]) {
      const lines = readFileSync(path.join(ROOT, file), "utf8").split("\n");
      for (const name of [...Object.keys(DEFAULTS), ...(file.startsWith("test") ? ["fill"] : [])]) {
        const at = lines.findIndex((line) => new RegExp(`^\\s+${name} \\?`).test(line));
        assert.ok(at > 0, `${file} declares ${name}`);
        assert.match(lines[at - 1], /^\s+# \S/, `${file}: ${name} has a comment above it`);
      }
    }
  });

  it('are the fixture\'s too, which adds only fill (default "zero").', async () => {
    assert.deepEqual(await formals("test/fixtures/image/default.nix"), { ...DEFAULTS, fill: '"zero"' });
    const args = await nixEval(`builtins.functionArgs (import ${nixString(FIXTURE_DIR)})`);
    assert.deepEqual(Object.keys(args as object).sort(), [...Object.keys(DEFAULTS), "fill"].sort());
  });

  it("take diskSize within the bounds components/settings.ts enforces.", async () => {
    const bounds = await nixEval(
      `with import ${nixString(`${NIX_DIR}/args.nix`)}; [ diskSizeMin diskSizeMax ]`,
    );
    assert.deepEqual(bounds, [DISK_SIZE_MIN, DISK_SIZE_MAX]);
  });

  it("take the systems and boot modes the component accepts.", async () => {
    const lists = await nixEval(`with import ${nixString(`${NIX_DIR}/args.nix`)}; [ systems bootModes ]`);
    assert.deepEqual(lists, [[...SYSTEMS], [...BOOT_MODES]]);
  });

  it("take exactly the channels the component accepts.", async () => {
    const words = [
      "nixos-25.11",
      "nixos-unstable",
      "nixos-24.11-small",
      "nixos-unstable-small",
      "https://example.org/channel",
      "nixos-25.1",
      "unstable",
      "nixpkgs-unstable",
      "ftp://example.org/channel",
    ];
    const byNix = await nixEval(
      `map (v: (builtins.tryEval ((import ${nixString(`${NIX_DIR}/args.nix`)}).check.channel v)).success) ${`[ ${words.map(nixString).join(" ")} ]`}`,
    );
    const byComponent = words.map((channel) => {
      try {
        resolveArgs({ channel });
        return true;
      } catch {
        return false;
      }
    });
    assert.deepEqual(byNix, byComponent);
    assert.deepEqual(byComponent, [true, true, true, true, true, false, false, false, false]);
  });

  it("are introduced by the command that builds the image, on the first line.", () => {
    const first = readFileSync(path.join(ROOT, "nix/default.nix"), "utf8").split("\n")[0];
    assert.equal(first, "# nix-build nix --arg kernelLatest false --arg diskSize 2048");
  });
});
