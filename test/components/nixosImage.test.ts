import assert from "node:assert/strict";
import {
  childrenOf,
  optionsOf,
  captureOptions,
  useMocks,
  valueOf,
  registeredNamed,
  commandStdout,
  fakeImageInfo,
  AUTO_DISK_SIZE,
  fakeFamilyId,
} from "../support/pulumiMocks.ts";

describe("NixosImage (mocked engine)", () => {
  let NixosImage: typeof import("../../components/index.ts").NixosImage;

  before(async () => {
    await useMocks(false);
    ({ NixosImage } = await import("../../components/index.ts"));
  });
  afterEach(() => delete commandStdout.build);

  it("builds with nix-build and publishes the result as a raw, bare image, with no instance", async () => {
    const image = new NixosImage("plain", { diskSize: 2048 }, { transformations: [captureOptions] });
    assert.equal(await valueOf(image.imageId), "plain-image-id");
    const kinds = childrenOf("plain").map((r) => `${r.type} ${r.name}`);
    assert.deepEqual(
      kinds.filter((k) => / plain-(build|family|image)$/.test(k)),
      [
        "command:local:Command plain-build",
        "command:local:Command plain-family",
        "openstack:images/image:Image plain-image",
      ],
    );
    assert.ok(!kinds.some((k) => k.startsWith("openstack:compute/")), kinds.join("\n"));
    const build = childrenOf("plain").find((r) => r.name === "plain-build")!;
    assert.match(
      build.inputs.create,
      /nix-build \S*nix --arg kernelLatest true --arg diskSize 2048 --out-link /,
    );
    assert.match(build.inputs.create, /info="\$out\/nix-support\/image-info.json"\n/);
    assert.match(build.inputs.create, /\ncat "\$info"\n/);
    assert.equal(build.inputs.logging, "stderr");
    assert.equal(build.inputs.addPreviousOutputInEnv, false);
    const upload = childrenOf("plain").find((r) => r.name === "plain-image")!;
    assert.equal(
      upload.inputs.localFilePath,
      "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-disk-image/nixos.img",
    );
    assert.equal(upload.inputs.diskFormat, "raw");
    assert.equal(upload.inputs.containerFormat, "bare");
    assert.equal(upload.inputs.verifyChecksum, true);
    assert.equal(upload.inputs.minDiskGb, 2);
    assert.equal(upload.inputs.visibility, "private");
    assert.equal(upload.inputs.name, "nixos-25.05.20250612.abcdef0-0123456789abcdfghijklmnpqrsvwxyz");
  });

  it('builds with diskSize "auto" by default, and takes min_disk from the size built', async () => {
    new NixosImage("auto", {});
    const build = await registeredNamed("auto-build");
    assert.match(
      build.inputs.create,
      /nix-build \S*nix --arg kernelLatest true --argstr diskSize auto --out-link /,
    );
    const upload = await registeredNamed("auto-image");
    assert.equal(upload.inputs.minDiskGb, Math.ceil(AUTO_DISK_SIZE / 1024));
  });

  it("builds for aarch64 with UEFI and publishes it as such", async () => {
    new NixosImage("arm", { system: "aarch64-linux", channel: "nixos-unstable" });
    const build = await registeredNamed("arm-build");
    assert.match(build.inputs.create, / --argstr system aarch64-linux --argstr channel nixos-unstable /);
    const { properties } = (await registeredNamed("arm-image")).inputs;
    assert.equal(properties.architecture, "aarch64");
    assert.equal(properties.hw_firmware_type, "uefi");
    assert.equal(properties.hw_machine_type, undefined);
  });

  it("publishes an x86_64 UEFI image for q35, and leaves a hybrid image's firmware to the cloud", async () => {
    new NixosImage("uefi", { bootMode: "uefi" });
    new NixosImage("hybrid", { bootMode: "hybrid" });
    assert.match((await registeredNamed("uefi-build")).inputs.create, / --argstr bootMode uefi /);
    const uefi = (await registeredNamed("uefi-image")).inputs.properties;
    assert.deepEqual([uefi.hw_firmware_type, uefi.hw_machine_type], ["uefi", "q35"]);
    const hybrid = (await registeredNamed("hybrid-image")).inputs.properties;
    assert.deepEqual([hybrid.hw_firmware_type, hybrid.hw_machine_type], [undefined, undefined]);
  });

  it("fails when the build reports another boot mode or system than the one asked for", async () => {
    commandStdout.build = () => fakeImageInfo(1024, { bootMode: "bios" });
    const image = new NixosImage("wrong-mode", { bootMode: "uefi" });
    await assert.rejects(
      valueOf(image.imagePath),
      /"bootMode" must equal the requested "uefi"; received "bios"/,
    );
  });

  it("sets the standard Glance and SCS properties with the build's provenance, and adds the user's", async () => {
    new NixosImage("props", {
      properties: { team: "infra" },
      keepGenerations: 5,
      replaceFrequency: "weekly",
    });
    const image = await registeredNamed("props-image");
    const storePath = "/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-disk-image";
    assert.deepEqual(image.inputs.properties, {
      os_distro: "nixos",
      os_version: "25.05",
      os_admin_user: "nixos",
      os_type: "linux",
      os_purpose: "generic",
      architecture: "x86_64",
      hw_disk_bus: "virtio",
      hw_vif_model: "virtio",
      hw_firmware_type: "bios",
      hw_qemu_guest_agent: "yes",
      image_original_user: "nixos",
      image_build_date: "2026-12-01 10:20",
      image_source: "https://nixos.org/channels/nixos-25.05",
      image_description: `NixOS 25.05.20250612.abcdef0 (x86_64-linux, bios), built with Nix from ${storePath}`,
      replace_frequency: "weekly",
      uuid_validity: "last-5",
      provided_until: "none",
      patchlevel: "25.05.20250612.abcdef0",
      nix_store_path: storePath,
      nixpkgs_revision: "abcdef0",
      // The family Command's output (a random ID, kept in the state), carried from the image's creation.
      nixos_cloud_image_family: fakeFamilyId("props-family"),
      team: "infra",
    });
  });

  it("gives the image min_ram from minRamMb (512 MiB by default), and the promotion the same to keep in place", async () => {
    new NixosImage("ram-default", {});
    new NixosImage("ram-set", { minRamMb: 2048 });
    assert.equal((await registeredNamed("ram-default-image")).inputs.minRamMb, 512);
    assert.equal((await registeredNamed("ram-set-image")).inputs.minRamMb, 2048);
    const promote = JSON.parse((await registeredNamed("ram-set-promote")).inputs.stdin.value);
    assert.equal(promote.minRamMb, 2048);
    assert.deepEqual(promote.properties, (await registeredNamed("ram-set-image")).inputs.properties);
  });

  it("names a nixpkgs tarball as the image's source", async () => {
    const nixpkgs = "https://github.com/NixOS/nixpkgs/archive/0123abc.tar.gz";
    new NixosImage("tarball", { nixpkgs, channel: "nixos-25.05" });
    assert.equal((await registeredNamed("tarball-image")).inputs.properties.image_source, nixpkgs);
  });

  it("gives the build a timeout and the upload one, and keeps every generation for the rotation to remove", async () => {
    const opts = { transformations: [captureOptions] };
    new NixosImage("kept", { buildTimeoutMinutes: 45, uploadTimeoutMinutes: 10 }, opts);
    new NixosImage("dflt", {}, opts);
    await registeredNamed("kept-image");
    await registeredNamed("dflt-image");
    assert.deepEqual(optionsOf.get("kept-build")?.customTimeouts, { create: "45m" });
    assert.deepEqual(optionsOf.get("kept-image")?.customTimeouts, { create: "10m" });
    assert.deepEqual(optionsOf.get("dflt-build")?.customTimeouts, { create: "120m" });
    // A replacement never deletes a generation; properties and min_ram change in place (promotion sets them),
    // so neither uploads the same bytes again.
    assert.equal(optionsOf.get("dflt-image")?.retainOnDelete, true);
    assert.equal(optionsOf.get("dflt-image")?.replaceOnChanges, undefined);
    for (const ignored of ["imageCachePath", "visibility", "hidden", "properties", "minRamMb"])
      assert.ok(optionsOf.get("dflt-image")?.ignoreChanges?.includes(ignored), ignored);
    // Explicitly false: the bridged provider would otherwise delete first, as the name is set.
    assert.equal(optionsOf.get("dflt-image")?.deleteBeforeReplace, false);
  });

  it("gives the build the same inputs when nothing changed, and new triggers when any parameter does", async () => {
    const inputsOf = async (name: string, args: object) => {
      new NixosImage(name, args);
      const { create, triggers } = (await registeredNamed(`${name}-build`)).inputs;
      // The GC root's name carries the component's name; the rest must match exactly.
      return { create: create.replaceAll(name, "NAME"), triggers };
    };
    const base = await inputsOf("same-a", { diskSize: 2048 });
    assert.deepEqual(await inputsOf("same-b", { diskSize: 2048 }), base);
    for (const [name, args] of [
      ["diff-disk", { diskSize: 4096 }],
      ["diff-kernel", { diskSize: 2048, kernelLatest: false }],
      ["diff-nixpkgs", { diskSize: 2048, nixpkgs: "https://example.org/nixpkgs.tar.gz" }],
      ["diff-auto", { diskSize: "auto" }],
      ["diff-system", { diskSize: 2048, system: "aarch64-linux" }],
      ["diff-boot", { diskSize: 2048, bootMode: "hybrid" }],
      ["diff-channel", { diskSize: 2048, channel: "nixos-unstable" }],
    ] as const) {
      assert.notDeepEqual((await inputsOf(name, args)).triggers, base.triggers, name);
    }
  });

  it("uses the given image name instead of the content-addressed one", async () => {
    new NixosImage("named", { imageName: "nixos-golden" });
    assert.equal((await registeredNamed("named-image")).inputs.name, "nixos-golden");
  });

  it("fails with a clear error when the build prints a broken image-info.json", async () => {
    commandStdout.build = () => fakeImageInfo(1024, { format: "qcow2" });
    const image = new NixosImage("broken", {});
    await assert.rejects(
      valueOf(image.imagePath),
      /image-info.json is not valid: "format" must be "raw"; received "qcow2"/,
    );
  });

  it("fails when the build reports another disk size than the one asked for", async () => {
    commandStdout.build = () => fakeImageInfo(4096);
    const image = new NixosImage("mismatch", { diskSize: 1024 });
    await assert.rejects(valueOf(image.imagePath), /"diskSize" must equal the requested 1024; received 4096/);
  });

  it("throws on an invalid argument before registering any resource", () => {
    assert.throws(
      () => new NixosImage("invalid", { diskSize: 10 }),
      /The "diskSize" setting must be "auto" or a whole number of MiB from 1024 to 2097152; received 10\./,
    );
    assert.deepEqual(childrenOf("invalid"), []);
    assert.throws(
      () => new NixosImage("invalid-arm", { system: "aarch64-linux", bootMode: "hybrid" }),
      /The "bootMode" setting must be uefi for system "aarch64-linux" \(it has no BIOS\); received "hybrid"\./,
    );
    assert.deepEqual(childrenOf("invalid-arm"), []);
  });
});
