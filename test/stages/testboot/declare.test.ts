import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import {
  childrenOf,
  optionsOf,
  captureOptions,
  useMocks,
  valueOf,
  registeredNamed,
  fakeReport,
  invoked,
  dependsOnNames,
  fakeFamilyId,
  FAKE_SHA512,
} from "../../support/pulumiMocks.ts";
import { testBootTag } from "../../../stages/testboot/declare.ts";

const verify = { flavorName: "m1.small", networkName: "private", sshSourceCidr: "203.0.113.7/32" };
/** Pulumi's marker of a secret value as it reaches the engine. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

describe("NixosImage with verify (mocked engine)", () => {
  let NixosImage: typeof import("../../../components/index.ts").NixosImage;
  let checkVerifyTargets: typeof import("../../../components/cloudChecks.ts").checkVerifyTargets;
  let cloudAnswer: typeof import("../../../components/cloudChecks.ts").cloudAnswer;

  before(async () => {
    await useMocks(false);
    ({ NixosImage } = await import("../../../components/index.ts"));
    ({ checkVerifyTargets, cloudAnswer } = await import("../../../components/cloudChecks.ts"));
    pulumi.runtime.setAllConfig({
      "openstack:cloud": "prod-east",
      "openstack:password": "s3cret-pw",
      "nixos-cloud-image:diskSize": "1024",
    });
  });
  after(() => pulumi.runtime.setAllConfig({}));

  it("adds only the test boot and the promotion to the stack: no server, key pair or security group", async () => {
    const image = new NixosImage("checked", { verify }, { transformations: [captureOptions] });
    assert.deepEqual(await valueOf(image.verification), fakeReport);
    await registeredNamed("checked-promote");
    assert.deepEqual(
      childrenOf("checked")
        .filter((r) => r.name !== "checked")
        .map((r) => `${r.type} ${r.name}`),
      [
        "command:local:Command checked-build",
        "command:local:Command checked-family",
        "command:local:Command checked-file",
        "openstack:images/image:Image checked-image",
        "command:local:Command checked-verify",
        "command:local:Command checked-promote",
        "command:local:Command checked-generations",
      ],
    );
  });

  it("runs the test boot exactly when the image changes, with the request as a secret on stdin", async () => {
    new NixosImage("secret", { verify }, { transformations: [captureOptions] });
    const run = await registeredNamed("secret-verify");
    assert.match(run.inputs.create, /^exec node \S*bin\/nixos-image-testboot\.js verify$/);
    assert.equal(run.inputs.triggers.length, 2);
    assert.match(run.inputs.triggers[0], /^[0-9a-f]{64}$/, "the build identity, known in a preview");
    assert.equal(run.inputs.triggers[1], "secret-image-id");
    // Settings alone changing runs `update`, which repeats the last report instead of booting again; without
    // one (the last run failed) it checks again.
    assert.match(
      run.inputs.update,
      /^\[ -n "\$PULUMI_COMMAND_STDOUT" \] && printf "%s" "\$PULUMI_COMMAND_STDOUT" \|\| exec node \S*bin\/nixos-image-testboot\.js verify$/,
    );
    assert.equal(run.inputs.addPreviousOutputInEnv, true);
    assert.equal(run.inputs.logging, "stderr");
    assert.equal(run.inputs.stdin[SECRET_SIG], "1b47061264138c4ac30d75fd1eb44270");
    const request = JSON.parse(run.inputs.stdin.value);
    const settings = { cloud: "prod-east", password: "s3cret-pw" };
    assert.deepEqual(request, {
      owner: "nixos-cloud-image/unit/secret",
      tag: testBootTag(fakeFamilyId("secret-family")),
      family: fakeFamilyId("secret-family"),
      imageId: "secret-image-id",
      uploads: [{ imageId: "secret-image-id", openstack: settings }],
      flavorName: "m1.small",
      networkName: "private",
      sshSourceCidr: "203.0.113.7/32",
      timeout: 600,
      configDrive: false,
      requireHostKeyPin: true,
      expectKernel: "6.15.2",
      expectFiles: ["/etc/nixos/configuration.nix"],
      openstack: { cloud: "prod-east", password: "s3cret-pw" },
    });
    assert.match(request.tag, /^[0-9a-f]{12}$/);
    // The first 12 hex digits of the family ID's SHA-256: nothing about the stack's names.
    assert.equal(request.tag, createHash("sha256").update(request.family).digest("hex").slice(0, 12));
    assert.doesNotMatch(JSON.stringify(run.inputs.create), /s3cret/);
    assert.deepEqual(optionsOf.get("secret-verify")?.customTimeouts, { create: "1500s" });
  });

  it("gives each family its own tag, so sweeps never touch another stack's test boot", async () => {
    new NixosImage("tag-a", { verify });
    new NixosImage("tag-b", { verify });
    const tagOf = async (n: string) =>
      JSON.parse((await registeredNamed(`${n}-verify`)).inputs.stdin.value).tag;
    assert.notEqual(await tagOf("tag-a"), await tagOf("tag-b"));
  });

  it("creates the image private and hidden and leaves both to the promotion, which waits for the check", async () => {
    new NixosImage("pub", { verify, visibility: "public" }, { transformations: [captureOptions] });
    const image = await registeredNamed("pub-image");
    assert.deepEqual([image.inputs.visibility, image.inputs.hidden], ["private", true]);
    assert.deepEqual(optionsOf.get("pub-image")?.ignoreChanges, [
      "imageCachePath",
      "visibility",
      "hidden",
      "properties",
      "minRamMb",
    ]);
    const promote = await registeredNamed("pub-promote");
    assert.match(promote.inputs.create, /^exec node \S*bin\/nixos-image-testboot\.js promote$/);
    // Never replaced (each run has the last one's record): no triggers; the build identity shows the run ahead.
    assert.equal(promote.inputs.triggers, undefined);
    assert.match(promote.inputs.environment.NCI_BUILD, /^[0-9a-f]{64}$/);
    assert.equal(promote.inputs.stdin[SECRET_SIG], "1b47061264138c4ac30d75fd1eb44270");
    // No file: the SHA-512 recorded at build time, so any machine with the state can promote.
    assert.deepEqual(JSON.parse(promote.inputs.stdin.value), {
      imageId: "pub-image-id",
      family: fakeFamilyId("pub-family"),
      sha512: FAKE_SHA512,
      visibility: "public",
      properties: image.inputs.properties,
      minRamMb: 512,
      openstack: { cloud: "prod-east", password: "s3cret-pw" },
    });
    // It keeps the properties it set, to unset the dropped ones next time.
    assert.equal(promote.inputs.addPreviousOutputInEnv, true);
    assert.deepEqual(await dependsOnNames("pub-promote"), ["pub-image", "pub-verify"]);
  });

  it("without verify, promotes right after the upload and adds no test boot", async () => {
    new NixosImage("direct", { visibility: "public" }, { transformations: [captureOptions] });
    await registeredNamed("direct-generations");
    assert.deepEqual(await dependsOnNames("direct-promote"), ["direct-image"]);
    assert.deepEqual(
      childrenOf("direct")
        .filter((r) => r.type === "command:local:Command")
        .map((r) => r.name),
      ["direct-build", "direct-family", "direct-file", "direct-promote", "direct-generations"],
    );
  });

  it("looks up the flavor, the network and the pool (as an external network) before anything is made", async () => {
    invoked.length = 0;
    await checkVerifyTargets({
      ...verify,
      floatingIpPool: "public",
      timeout: 600,
      configDrive: false,
      requireHostKeyPin: true,
    });
    assert.deepEqual(
      invoked
        .map((i) => [i.token, i.inputs])
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [
        ["openstack:compute/getFlavor:getFlavor", { name: "m1.small" }],
        ["openstack:networking/getNetwork:getNetwork", { external: true, name: "public" }],
        ["openstack:networking/getNetwork:getNetwork", { name: "private" }],
      ],
    );
  });

  const missing: [string, object, RegExp][] = [
    [
      "flavorName",
      { flavorName: "missing-flavor" },
      /The "verify.flavorName" setting must be the name of a flavor that exists in the cloud; received "missing-flavor"\./,
    ],
    [
      "networkName",
      { networkName: "missing-net" },
      /The "verify.networkName" setting must be the name of a network that exists in the cloud; received "missing-net"\./,
    ],
    [
      "floatingIpPool",
      { floatingIpPool: "missing-pool" },
      /The "verify.floatingIpPool" setting must be the name of an external network \(a floating IP pool\) that exists in the cloud; received "missing-pool"\./,
    ],
  ];
  for (const [setting, change, message] of missing) {
    it(`fails naming verify.${setting} when it does not exist in the cloud`, async () => {
      await assert.rejects(
        checkVerifyTargets({
          ...verify,
          timeout: 600,
          configDrive: false,
          requireHostKeyPin: true,
          ...change,
        }),
        message,
      );
    });
  }

  it("quotes the cloud's answer without the invoke's wrapping", () => {
    const wrapped = new Error(
      "invocation of openstack:compute/getFlavor:getFlavor returned an error: invoking openstack:compute/getFlavor:getFlavor: 1 error occurred:\n\t* Your query returned no results.\n\n",
    );
    assert.equal(cloudAnswer(wrapped), "Your query returned no results.");
  });
});
