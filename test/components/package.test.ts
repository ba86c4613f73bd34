// The package (pulumi-package/): the schema Pulumi infers from it, as the package's host does for
// `pulumi package add` and `pulumi package get-schema`, and its NixosImage under the mocked engine.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { Analyzer } from "@pulumi/pulumi/provider/experimental/analyzer.js";
import { getPulumiComponents } from "@pulumi/pulumi/provider/experimental/provider.js";
import { generateSchema } from "@pulumi/pulumi/provider/experimental/schema.js";
import type { PackageSpec } from "@pulumi/pulumi/provider/experimental/schema.js";
import type { NixosImageArgs } from "../../components/args.ts";
import type { NixosImagePackageArgs } from "../../components/package/args.ts";
import { resolveArgs } from "../../components/resolve.ts";
import { childrenOf, useMocks, valueOf } from "../support/pulumiMocks.ts";

function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.equal((e as Error).name, "InvalidArgumentError");
    return (e as Error).message;
  }
  throw new Error("no error");
}

const PACKAGE = fileURLToPath(new URL("../../pulumi-package", import.meta.url));
const TOKEN = "nixos-cloud-image:index:NixosImage";

/** Each input's schema type, as other languages see it (enumerations are strings, diskSize MiB). */
const INPUT_TYPES = {
  kernelLatest: "boolean",
  diskSize: "number",
  system: "string",
  bootMode: "string",
  channel: "string",
  nixpkgs: "string",
  source: "string",
  imageName: "string",
  visibility: "string",
  properties: "map of string",
  tags: "array of string",
  keepGenerations: "number",
  replaceFrequency: "string",
  minRamMb: "number",
  members: "array of string",
  memberClouds: "map of string",
  regions: "array of string",
  nixOptions: "map of string",
  buildTimeoutMinutes: "number",
  uploadTimeoutMinutes: "number",
  verify: "VerifySettings",
};

/** A schema property's type in one word or three. */
function typeOf(property: any): string {
  if (property.$ref) return property.$ref.split(":").pop();
  if (property.type === "array") return `array of ${typeOf(property.items)}`;
  if (property.type === "object" && property.additionalProperties)
    return `map of ${typeOf(property.additionalProperties)}`;
  return property.type;
}

describe("the package (pulumi-package/)", () => {
  let schema: PackageSpec;

  before(function () {
    this.timeout(30_000);
    // What the Node.js host does when asked for the schema: load the package, find its components, analyze.
    const exported = createRequire(import.meta.url)(PACKAGE);
    const components = getPulumiComponents(exported);
    assert.deepEqual(
      components.map((c) => c.name),
      ["NixosImage"],
    );
    const packageJson = JSON.parse(readFileSync(`${PACKAGE}/package.json`, "utf8"));
    const analyzer = new Analyzer(PACKAGE, packageJson.name, packageJson, new Set(["NixosImage"]));
    const { components: found, typeDefinitions, dependencies } = analyzer.analyze();
    schema = generateSchema(
      packageJson.name,
      packageJson.version,
      packageJson.description,
      found,
      typeDefinitions,
      dependencies,
    );
  });

  it("has one component, nixos-cloud-image:index:NixosImage, whose every input has its type and a description", () => {
    assert.deepEqual(Object.keys(schema.resources), [TOKEN]);
    const inputs = schema.resources[TOKEN].inputProperties!;
    assert.deepEqual(
      Object.fromEntries(Object.entries(inputs).map(([key, p]) => [key, typeOf(p)])),
      Object.fromEntries(Object.keys(inputs).map((key) => [key, (INPUT_TYPES as any)[key]])),
    );
    assert.deepEqual(Object.keys(inputs).sort(), Object.keys(INPUT_TYPES).sort());
    for (const [key, p] of Object.entries(inputs)) assert.ok(p.description, `${key} has a description`);
    assert.deepEqual(schema.resources[TOKEN].requiredInputs ?? [], [], "every input is optional");
    const verify = schema.types!["nixos-cloud-image:index:VerifySettings"];
    assert.deepEqual(verify.required, ["flavorName", "networkName", "sshSourceCidr"]);
    for (const [key, p] of Object.entries(verify.properties!)) assert.ok(p.description, `verify.${key}`);
  });

  it("takes every setting of the stack config (Pulumi.yaml) as an input", () => {
    const config = parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8")).config;
    assert.deepEqual(
      Object.keys(schema.resources[TOKEN].inputProperties!).sort(),
      Object.keys(config).sort(),
    );
  });

  it("outputs the image IDs per region, the name, the NixOS version and the verification report", () => {
    const outputs = schema.resources[TOKEN].properties!;
    assert.deepEqual(Object.fromEntries(Object.entries(outputs).map(([key, p]) => [key, typeOf(p)])), {
      imageId: "string",
      imageIds: "map of string",
      imageName: "string",
      imagePath: "string",
      kernelVersion: "string",
      nixosVersion: "string",
      verification: "VerificationReport",
    });
    for (const [key, p] of Object.entries(outputs)) assert.ok(p.description, `${key} has a description`);
    assert.ok(!schema.resources[TOKEN].required!.includes("verification"), "unset without verify");
    const report = schema.types!["nixos-cloud-image:index:VerificationReport"].properties!;
    assert.equal(typeOf(report.checks), "array of VerificationCheck");
    assert.equal(typeOf(report.ok), "boolean");
  });
});

describe("the package's NixosImage (mocked engine)", () => {
  let NixosImage: typeof import("../../components/package/nixosImage.ts").NixosImage;

  before(async () => {
    await useMocks(false);
    ({ NixosImage } = await import("../../components/package/nixosImage.ts"));
  });

  it("registers the program's component and children, with an unset diskSize built as auto", async () => {
    const image = new NixosImage("pkg", { kernelLatest: false });
    assert.equal(await valueOf(image.imageId), "pkg-image-id");
    assert.equal(await valueOf(image.nixosVersion), "25.05.20250612.abcdef0");
    assert.equal(await valueOf(image.kernelVersion), "6.15.2");
    assert.deepEqual(Object.values((await valueOf(image.imageIds)) ?? {}), ["pkg-image-id"]);
    assert.equal(await valueOf(image.verification), null);
    assert.equal(image.urn !== undefined, true);
    const build = childrenOf("pkg").find((r) => r.name === "pkg-build")!;
    assert.match(build.inputs.create, / --arg kernelLatest false --argstr diskSize auto /);
  });

  it("refuses a bad value with the message stack config gets: the key, the rule and the value", () => {
    for (const bad of [{ diskSize: 100 }, { visibility: "everyone" }, { verify: { flavorName: "m1" } }]) {
      const [key, value] = Object.entries(bad)[0];
      const fromConfig = messageOf(() => resolveArgs({ [key]: value } as NixosImageArgs));
      assert.match(fromConfig, new RegExp(`^The "${key}[."]`));
      assert.equal(
        messageOf(() => new NixosImage("bad", bad as NixosImagePackageArgs)),
        fromConfig,
      );
    }
    assert.deepEqual(childrenOf("bad"), [], "nothing is registered");
  });
});
