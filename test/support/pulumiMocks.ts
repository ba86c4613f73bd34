import { createHash } from "node:crypto";
// Mocked-engine support for the unit tier: every registered resource is recorded with its inputs and,
// through a transformation, its resource options (MockResourceArgs carries no options).
import * as pulumi from "@pulumi/pulumi";

export interface Registered {
  type: string;
  name: string;
  /** Inputs as the engine received them (resolved). */
  inputs: Record<string, any>;
}

/** Every resource the mocked engine registered, in order. */
export const registered: Registered[] = [];
/** The options each child resource was given, by resource name. */
export const optionsOf = new Map<string, pulumi.CustomResourceOptions>();

/** What the fake nix build prints: a valid image-info.json for the requested disk size. */
export function fakeImageInfo(diskSize: number, overrides: Record<string, unknown> = {}) {
  return JSON.stringify({
    file: "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-disk-image/nixos.img",
    format: "raw",
    diskSize,
    nixosVersion: "25.05.20250612.abcdef0",
    nixosRelease: "25.05",
    kernelVersion: "6.15.2",
    system: "x86_64-linux",
    qemuGuestAgent: true,
    bootMode: "bios",
    channel: "https://nixos.org/channels/nixos-25.05",
    ...overrides,
  });
}

/** The SHA-512 the fake build reports for its file. */
export const FAKE_SHA512 = "ab".repeat(64);

/** What the build script prints around an image-info.json document. */
export function fakeBuildOutput(imageInfo: string, builtAt = "2026-12-01 10:20", sha512 = FAKE_SHA512) {
  return `{"builtAt":"${builtAt}","sha512":"${sha512}","imageInfo":${imageInfo}}`;
}

/** The family ID the fake family Command prints for a resource (random in the real one, fixed here per name). */
export function fakeFamilyId(resourceName: string): string {
  const hex = createHash("sha256").update(resourceName).digest("hex");
  return `nci-${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** What the fake rotation prints: a report whose `next` says what the next build hides and deletes. */
export function fakeRotationReport(imageId: string) {
  return {
    kept: [imageId, "older-id"],
    hidden: [],
    deleted: [],
    blocked: [],
    unshared: [],
    orphaned: [],
    next: { hide: [imageId], delete: ["older-id"] },
  };
}

/** The size the fake build reports for diskSize "auto", in MiB. */
export const AUTO_DISK_SIZE = 2861;

/** What the fake test boot prints: a passed report. */
export const fakeReport = {
  host: "192.0.2.10",
  port: 22,
  user: "nixos",
  ok: true,
  checks: [
    { id: "key-login", name: "key login as nixos", ok: true, reason: "ssh nixos@192.0.2.10 true: exit 0" },
  ],
  imageId: "image-id",
  serverId: "server-id",
  hostKeyPinned: null,
  leftoversRemoved: null,
  timings: { serverActive: 8, checked: 60, cleanup: 7, total: 80 },
};

/** Every invoke (data source lookup) the program made, in order. */
export const invoked: { token: string; inputs: Record<string, any> }[] = [];

/** Overridable per test: what a Command prints, keyed by the resource name suffix. */
export const commandStdout: { build?: (inputs: Record<string, any>) => string } = {};

function stdoutFor(name: string, inputs: Record<string, any>): string | undefined {
  if (name.endsWith("-build")) {
    if (commandStdout.build) return commandStdout.build(inputs);
    // As nix/ would: the size asked for, or with "auto" one the build chose; the system and boot mode asked for.
    const size = /--arg diskSize (\d+)/.exec(inputs.create)?.[1];
    const argstr = (name: string) => new RegExp(`--argstr ${name} (\\S+)`).exec(inputs.create)?.[1];
    const system = argstr("system") ?? "x86_64-linux";
    const bootMode = argstr("bootMode") ?? (system === "aarch64-linux" ? "uefi" : "bios");
    return fakeBuildOutput(fakeImageInfo(size ? Number(size) : AUTO_DISK_SIZE, { system, bootMode }));
  }
  if (name.endsWith("-verify")) return JSON.stringify(fakeReport);
  // As stages/promote/run.ts does: the properties it set, for the next run to unset dropped ones.
  if (/-promote(-|$)/.test(name))
    return JSON.stringify({ properties: JSON.parse(inputs.stdin?.value ?? inputs.stdin).properties });
  if (/-family(-|$)/.test(name)) return `${fakeFamilyId(name)}\n`;
  if (/-generations(-|$)/.test(name)) {
    const request = JSON.parse(inputs.stdin?.value ?? inputs.stdin);
    return JSON.stringify(fakeRotationReport(request.imageId));
  }
  return undefined;
}

/** Sets the mocks; `preview` makes Commands print nothing, as the engine does not run them in preview. */
export async function useMocks(preview: boolean) {
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state: Record<string, any> = { ...args.inputs };
        if (args.type === "command:local:Command" && !preview)
          state.stdout = stdoutFor(args.name, args.inputs);
        if (args.type === "openstack:compute/instance:Instance") state.accessIpV4 = "192.0.2.10";
        if (args.type === "openstack:networking/floatingIp:FloatingIp") state.address = "198.51.100.7";
        if (args.type === "openstack:compute/keypair:Keypair") state.name = `${args.name}-generated`;
        if (args.type === "openstack:networking/secGroup:SecGroup") state.name = `${args.name}-generated`;
        if (args.type === "openstack:images/image:Image" && !preview) state.name ??= "generated";
        return { id: preview ? "" : `${args.name}-id`, state };
      },
      call: (args: pulumi.runtime.MockCallArgs) => {
        invoked.push({ token: args.token, inputs: args.inputs });
        // Names starting with "missing" do not exist, as the bridged provider answers for an empty result.
        if (typeof args.inputs.name === "string" && args.inputs.name.startsWith("missing")) {
          throw new Error(
            "Your query returned no results. Please change your search criteria and try again.",
          );
        }
        // The provider's own region, as the bridged provider resolves it from clouds.yaml.
        if (args.token === "openstack:identity/getAuthScope:getAuthScope")
          return { ...args.inputs, region: "RegionOne" };
        return args.inputs;
      },
    },
    "nixos-cloud-image",
    "unit",
    preview,
  );
}

/** Resource options the component gave each child, captured by a transformation on the component. */
export const captureOptions: pulumi.ResourceTransformation = (args) => {
  optionsOf.set(args.name, args.opts as pulumi.CustomResourceOptions);
  return undefined;
};

/** Resolves an Output's value; `undefined` when it is unknown (as in a preview). */
export async function valueOf<T>(output: pulumi.Output<T>): Promise<T | undefined> {
  // isKnown and promise() are the SDK's internals that Output.apply itself uses; a failed apply rejects here.
  const internal = output as unknown as { isKnown: Promise<boolean>; promise(): Promise<T> };
  const value = await internal.promise();
  return (await internal.isKnown) ? value : undefined;
}

/** The names of the resources a child was given as dependsOn, in order. */
export async function dependsOnNames(name: string): Promise<string[]> {
  const dependsOn = (optionsOf.get(name)?.dependsOn ?? []) as pulumi.Resource[];
  const urns = await Promise.all(dependsOn.map((r) => valueOf(r.urn)));
  return urns.map((u) => u!.split("::").pop()!);
}

/** The registered resources whose name starts with the component's name. */
export function childrenOf(name: string): Registered[] {
  return registered.filter((r) => r.name === name || r.name.startsWith(`${name}-`));
}

/** Waits (up to 3 s) until `found` returns something: registrations complete asynchronously. */
async function eventually<T>(found: () => T | undefined, what: string): Promise<T> {
  for (let i = 0; i < 300; i++) {
    const value = found();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${what} was never registered`);
}

/** The registered resource of that name, once it is registered. */
export function registeredNamed(name: string): Promise<Registered> {
  return eventually(() => childrenOf(name).find((r) => r.name === name), `resource ${name}`);
}

/** Waits until at least `count` resources of `type` are registered under the component `prefix`. */
export async function registeredOfType(prefix: string, type: string, count: number): Promise<void> {
  await eventually(
    () => (childrenOf(prefix).filter((r) => r.type === type).length >= count ? true : undefined),
    `${count} ${type} under ${prefix}`,
  );
}
