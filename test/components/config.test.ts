import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { argsFromConfig } from "../../components/config.ts";
import { SETTINGS } from "../../components/settings.ts";
import { resolveArgs } from "../../components/resolve.ts";

const NS = "nixos-cloud-image";

/** Stack configuration as the CLI hands it to the program: every value a string, objects as JSON. */
function withConfig(values: Record<string, string>) {
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(values).map(([k, v]) => [`${NS}:${k}`, v])));
}

describe("argsFromConfig", () => {
  afterEach(() => pulumi.runtime.setAllConfig({}));

  it("reads typed values, text values and objects", () => {
    withConfig({
      kernelLatest: "false",
      diskSize: "2048",
      visibility: "public",
      imageName: "1234",
      properties: '{"team":"infra"}',
      minRamMb: "1024",
      verify: '{"flavorName":"m1.small","networkName":"net","sshSourceCidr":"10.0.0.0/8"}',
    });
    assert.deepEqual(argsFromConfig(NS), {
      kernelLatest: false,
      diskSize: 2048,
      visibility: "public",
      imageName: "1234",
      properties: { team: "infra" },
      minRamMb: 1024,
      verify: { flavorName: "m1.small", networkName: "net", sshSourceCidr: "10.0.0.0/8" },
    });
  });

  it('reads diskSize "auto" as text, and system, bootMode and channel as text', () => {
    withConfig({ diskSize: "auto", system: "aarch64-linux", bootMode: "uefi", channel: "nixos-unstable" });
    assert.deepEqual(argsFromConfig(NS), {
      diskSize: "auto",
      system: "aarch64-linux",
      bootMode: "uefi",
      channel: "nixos-unstable",
    });
  });

  it("passes a value of the wrong type on, so validation names the full key and the value", () => {
    withConfig({ diskSize: "big" });
    assert.throws(
      () => resolveArgs(argsFromConfig(NS), `${NS}:`),
      /The "nixos-cloud-image:diskSize" setting must be "auto" or a whole number of MiB from 1024 to 2097152; received "big"\./,
    );
  });

  it("rejects an unknown key in the project's namespace, such as a typo", () => {
    withConfig({ kernelLatst: "false" });
    assert.throws(
      () => argsFromConfig(NS),
      /The "nixos-cloud-image:kernelLatst" setting must be one of the known settings \(kernelLatest, diskSize/,
    );
  });

  it("leaves other namespaces alone", () => {
    pulumi.runtime.setAllConfig({ "openstack:cloud": "local" });
    assert.deepEqual(argsFromConfig(NS), {});
  });
});

describe("Pulumi.yaml", () => {
  const project = parse(readFileSync(new URL("../../Pulumi.yaml", import.meta.url), "utf8"));

  it("declares and describes every setting the component reads", () => {
    assert.deepEqual(Object.keys(project.config).sort(), Object.keys(SETTINGS).sort());
    for (const [key, decl] of Object.entries<any>(project.config))
      assert.ok(decl.description, `${key} has a description`);
  });

  it("has defaults that mean exactly what the component does when a setting is absent", () => {
    // As the CLI hands defaults to the program: text as it is, everything else as JSON.
    const asConfig = (key: string, value: unknown) =>
      typeof value === "string" ? value : JSON.stringify(value);
    withConfig(
      Object.fromEntries(Object.entries<any>(project.config).map(([k, d]) => [k, asConfig(k, d.default)])),
    );
    assert.deepEqual(resolveArgs(argsFromConfig(NS)), resolveArgs({}));
  });
});
