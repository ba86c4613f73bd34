import * as pulumi from "@pulumi/pulumi";
import * as openstack from "@pulumi/openstack";
import { local } from "@pulumi/command";
import type { ResolvedArgs } from "./args.ts";
import type { BuiltImage } from "./build.ts";
import type { Report } from "../verifier/report.ts";
import { projectPath } from "./source.ts";

type Verify = NonNullable<ResolvedArgs["verify"]>;

/**
 * A key pair made once for the test instance with ssh-keygen; stdout (public key line, then the private
 * key) is a Pulumi secret and never logged. Supplying our own public key works on every Nova version.
 */
function testKey(name: string, parent: pulumi.Resource) {
  const keygen = new local.Command(
    `${name}-test-key`,
    {
      create: [
        "set -eu",
        "d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT",
        'ssh-keygen -q -t ed25519 -N "" -C nixos-image-verify -f "$d/key"',
        'cat "$d/key.pub" "$d/key"',
      ].join("\n"),
      logging: "none",
      addPreviousOutputInEnv: false,
    },
    { parent, additionalSecretOutputs: ["stdout"] },
  );
  const lines = keygen.stdout.apply((s) => s.split("\n"));
  return {
    publicKey: pulumi.unsecret(lines.apply((l) => l[0])),
    privateKey: pulumi.secret(lines.apply((l) => l.slice(1).join("\n") + "\n")),
  };
}

/**
 * Boots a test instance from the image, reachable on tcp/22 from sshSourceCidr only, and runs the
 * verifier against it. The verifier re-runs whenever the image (or instance) changes; when it fails,
 * `pulumi up` fails with its reasons.
 */
export function verifyImage(
  name: string,
  verify: Verify,
  build: BuiltImage,
  image: openstack.images.Image,
  parent: pulumi.Resource,
) {
  const keep = { parent, retainOnDelete: verify.keepInstance };
  const key = testKey(name, parent);
  const keypair = new openstack.compute.Keypair(`${name}-test`, { publicKey: key.publicKey }, keep);
  const group = new openstack.networking.SecGroup(
    `${name}-test-ssh`,
    { description: `tcp/22 from ${verify.sshSourceCidr} to the nixos-image-verify test instance` },
    keep,
  );
  const rule = new openstack.networking.SecGroupRule(
    `${name}-test-ssh`,
    {
      securityGroupId: group.id,
      direction: "ingress",
      ethertype: verify.sshSourceCidr.includes(":") ? "IPv6" : "IPv4",
      protocol: "tcp",
      portRangeMin: 22,
      portRangeMax: 22,
      remoteIpPrefix: verify.sshSourceCidr,
    },
    keep,
  );
  const instance = new openstack.compute.Instance(
    `${name}-test`,
    {
      imageId: image.id,
      flavorName: verify.flavorName,
      networks: [{ name: verify.networkName }],
      keyPair: keypair.name,
      securityGroups: [group.name],
      metadata: { purpose: "nixos-image-verify" },
    },
    { ...keep, dependsOn: [rule] },
  );
  let host: pulumi.Output<string> = instance.accessIpV4;
  const waitFor: pulumi.Resource[] = [instance, rule];
  if (verify.floatingIpPool !== undefined) {
    const ip = new openstack.networking.FloatingIp(`${name}-test`, { pool: verify.floatingIpPool }, keep);
    waitFor.push(
      new openstack.compute.FloatingIpAssociate(
        `${name}-test`,
        { floatingIp: ip.address, instanceId: instance.id },
        keep,
      ),
    );
    host = ip.address;
  }
  const command = new local.Command(
    `${name}-verify`,
    {
      // Beyond SSH, sudo and root: the kernel is the one built, and /etc/nixos holds the shipped configuration.
      create: pulumi.interpolate`node ${projectPath("bin/nixos-image-verify.js")} --host ${host} --user nixos --identity - --timeout ${verify.timeout} --expect-kernel ${build.info.kernelVersion} --expect-file /etc/nixos/configuration.nix --json`,
      // The private key reaches the verifier on stdin: never in argv, a file of ours, or the log.
      stdin: key.privateKey,
      triggers: [image.id, instance.id],
      logging: "stderr",
      addPreviousOutputInEnv: false,
    },
    { parent, dependsOn: waitFor, customTimeouts: { create: `${verify.timeout + 120}s` } },
  );
  return { instance, host, result: command.stdout.apply((s) => JSON.parse(s) as VerificationReport) };
}

/** What the verifier prints with --json: the CLI's own report type. */
export type VerificationReport = Report;
