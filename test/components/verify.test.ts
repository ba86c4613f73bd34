import assert from "node:assert/strict";
import {
  childrenOf,
  optionsOf,
  captureOptions,
  useMocks,
  valueOf,
  registeredNamed,
  registeredOfType,
} from "../support/pulumiMocks.ts";

const verify = { flavorName: "m1.small", networkName: "private", sshSourceCidr: "203.0.113.7/32" };

describe("NixosImage with verify (mocked engine)", () => {
  let NixosImage: typeof import("../../components/index.ts").NixosImage;

  before(async () => {
    await useMocks(false);
    ({ NixosImage } = await import("../../components/index.ts"));
  });

  it("adds a key pair, a security group, an instance from the new image and a verifier run", async () => {
    const image = new NixosImage("checked", { verify }, { transformations: [captureOptions] });
    assert.deepEqual(await valueOf(image.verification), {
      host: "192.0.2.10",
      port: 22,
      user: "nixos",
      ok: true,
      checks: [],
    });
    const byName = new Map(childrenOf("checked").map((r) => [r.name, r]));
    assert.deepEqual(
      [...byName.keys()].filter((n) => n !== "checked").sort(),
      [
        "checked-build",
        "checked-image",
        "checked-test",
        "checked-test",
        "checked-test-key",
        "checked-test-ssh",
        "checked-test-ssh",
        "checked-verify",
      ].filter((n, i, all) => all.indexOf(n) === i),
    );
    const instance = childrenOf("checked").find((r) => r.type === "openstack:compute/instance:Instance")!;
    assert.equal(instance.inputs.imageId, "checked-image-id");
    assert.equal(instance.inputs.flavorName, "m1.small");
    assert.deepEqual(instance.inputs.networks, [{ name: "private" }]);
    assert.equal(instance.inputs.keyPair, "checked-test-generated");
    assert.deepEqual(instance.inputs.securityGroups, ["checked-test-ssh-generated"]);
    const keypair = childrenOf("checked").find((r) => r.type === "openstack:compute/keypair:Keypair")!;
    assert.match(keypair.inputs.publicKey, /^ssh-ed25519 \S+ nixos-image-verify$/);
  });

  it("opens tcp/22 to sshSourceCidr only, and nothing else", async () => {
    new NixosImage("fw", { verify: { ...verify, sshSourceCidr: "2001:db8::/64" } });
    await registeredOfType("fw", "command:local:Command", 3);
    const rules = childrenOf("fw").filter((r) => r.type === "openstack:networking/secGroupRule:SecGroupRule");
    assert.equal(rules.length, 1);
    assert.deepEqual(
      { ...rules[0].inputs, securityGroupId: undefined },
      {
        securityGroupId: undefined,
        direction: "ingress",
        ethertype: "IPv6",
        protocol: "tcp",
        portRangeMin: 22,
        portRangeMax: 22,
        remoteIpPrefix: "2001:db8::/64",
      },
    );
  });

  it("passes the private key to the verifier on stdin as a secret, never in the command line", async () => {
    new NixosImage("secret", { verify }, { transformations: [captureOptions] });
    const run = await registeredNamed("secret-verify");
    assert.match(
      run.inputs.create,
      /^node \S*bin\/nixos-image-verify\.js --host 192\.0\.2\.10 --user nixos --identity - --timeout 600 --expect-kernel 6\.15\.2 --expect-file \/etc\/nixos\/configuration\.nix --json$/,
    );
    assert.doesNotMatch(run.inputs.create, /PRIVATE KEY/);
    // A secret reaches the engine wrapped in Pulumi's secret signature.
    assert.equal(run.inputs.stdin["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
    assert.match(run.inputs.stdin.value, /BEGIN OPENSSH PRIVATE KEY/);
    assert.deepEqual(optionsOf.get("secret-test-key")?.additionalSecretOutputs, ["stdout"]);
    const keygen = await registeredNamed("secret-test-key");
    assert.equal(keygen.inputs.logging, "none");
    // The run is repeated whenever the image or the instance changes.
    assert.deepEqual(run.inputs.triggers, ["secret-image-id", "secret-test-id"]);
  });

  it("connects through a floating IP when a pool is given", async () => {
    new NixosImage(
      "fip",
      { verify: { ...verify, floatingIpPool: "public", keepInstance: true, timeout: 120 } },
      {
        transformations: [captureOptions],
      },
    );
    const run = await registeredNamed("fip-verify");
    assert.match(run.inputs.create, /--host 198\.51\.100\.7 .*--timeout 120 /);
    const assoc = childrenOf("fip").find(
      (r) => r.type === "openstack:compute/floatingIpAssociate:FloatingIpAssociate",
    )!;
    assert.deepEqual(assoc.inputs, { floatingIp: "198.51.100.7", instanceId: "fip-test-id" });
    assert.equal(optionsOf.get("fip-test")?.retainOnDelete, true);
    assert.deepEqual(optionsOf.get("fip-verify")?.customTimeouts, { create: "240s" });
  });
});
