// The lifecycle stages of the component against Pulumi's mocks: regions, sharing, rotation and their order.
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import {
  captureOptions,
  childrenOf,
  dependsOnNames,
  invoked,
  optionsOf,
  registeredNamed,
  useMocks,
  valueOf,
} from "../support/pulumiMocks.ts";

const verify = { flavorName: "m1.small", networkName: "private", sshSourceCidr: "203.0.113.7/32" };
const P1 = "0123456789abcdef0123456789abcdef";
const P2 = "fedcba9876543210fedcba9876543210";
const opts = { transformations: [captureOptions] };

describe("NixosImage lifecycle (mocked engine)", () => {
  let NixosImage: typeof import("../../components/index.ts").NixosImage;

  before(async () => {
    await useMocks(false);
    ({ NixosImage } = await import("../../components/index.ts"));
  });

  it("publishes one build to each region, verifies in the first, promotes and rotates in each", async () => {
    const image = new NixosImage("multi", { verify, regions: ["RegionOne", "RegionTwo"] }, opts);
    await registeredNamed("multi-generations-RegionTwo");
    const names = childrenOf("multi")
      .filter((r) => r.name !== "multi")
      .map((r) => r.name);
    assert.deepEqual(
      names.filter((n) => n.endsWith("-build")),
      ["multi-build"],
    );
    for (const region of ["RegionOne", "RegionTwo"]) {
      const upload = await registeredNamed(`multi-image-${region}`);
      assert.equal(upload.inputs.region, region);
      assert.equal(
        upload.inputs.properties.nixos_cloud_image_family,
        `nixos-cloud-image/unit/multi@${region}`,
      );
      const promote = JSON.parse((await registeredNamed(`multi-promote-${region}`)).inputs.stdin.value);
      assert.equal(promote.openstack.region, region);
      const rotate = JSON.parse((await registeredNamed(`multi-generations-${region}`)).inputs.stdin.value);
      assert.deepEqual(
        [rotate.family, rotate.openstack.region],
        [`nixos-cloud-image/unit/multi@${region}`, region],
      );
    }
    assert.deepEqual(
      names.filter((n) => n.includes("verify")),
      ["multi-verify"],
    );
    const boot = JSON.parse((await registeredNamed("multi-verify")).inputs.stdin.value);
    assert.equal(boot.openstack.region, "RegionOne");
    assert.deepEqual(await dependsOnNames("multi-promote-RegionTwo"), [
      "multi-image-RegionTwo",
      "multi-verify",
    ]);
    // The region of each lookup: the regions' own, and the test boot's.
    const regionsAsked = invoked.filter((i) => i.token === "openstack:images/getImageIds:getImageIds");
    assert.deepEqual(regionsAsked.map((i) => i.inputs.region).slice(-2), ["RegionOne", "RegionTwo"]);
    assert.equal(
      invoked.find(
        (i) => i.token === "openstack:compute/getFlavor:getFlavor" && i.inputs.region === "RegionOne",
      )?.inputs.name,
      "m1.small",
    );
    assert.deepEqual(await valueOf(image.imageIds), {
      RegionOne: "multi-image-RegionOne-id",
      RegionTwo: "multi-image-RegionTwo-id",
    });
    assert.equal(await valueOf(image.imageId), "multi-image-RegionOne-id");
  });

  it("without regions keeps the resource names of one region, in the provider's", async () => {
    new NixosImage("single", {}, opts);
    const upload = await registeredNamed("single-image");
    assert.equal(upload.inputs.region, undefined);
    assert.equal(upload.inputs.properties.nixos_cloud_image_family, "nixos-cloud-image/unit/single");
    await registeredNamed("single-generations");
  });

  it("shares with each member after the promotion, and accepts through the member's own cloud", async () => {
    new NixosImage("shared", { verify, members: [P1, P2], memberClouds: { [P2]: "demo" } }, opts);
    const access = await registeredNamed(`shared-member-${P1}`);
    assert.deepEqual([access.inputs.imageId, access.inputs.memberId], ["shared-image-id", P1]);
    assert.deepEqual(await dependsOnNames(`shared-member-${P1}`), ["shared-promote"]);
    assert.equal(optionsOf.get(`shared-member-${P1}`)?.retainOnDelete, true);
    assert.equal(
      childrenOf("shared").find((r) => r.name === `shared-accept-${P1}`),
      undefined,
    );
    const accept = await registeredNamed(`shared-accept-${P2}`);
    assert.deepEqual([accept.inputs.memberId, accept.inputs.status], [P2, "accepted"]);
    const provider = optionsOf.get(`shared-accept-${P2}`)?.provider as pulumi.ProviderResource;
    assert.equal(
      await valueOf(provider.urn),
      "urn:pulumi:unit::nixos-cloud-image::nixos-cloud-image:index:NixosImage$pulumi:providers:openstack::shared-member-cloud-demo",
    );
    assert.equal((await registeredNamed("shared-member-cloud-demo")).inputs.cloud, "demo");
    const promote = JSON.parse((await registeredNamed("shared-promote")).inputs.stdin.value);
    assert.equal(promote.visibility, "shared");
    // The rotation runs after the shares and knows the members (to remove any that left).
    const rotate = await registeredNamed("shared-generations");
    assert.deepEqual(JSON.parse(rotate.inputs.stdin.value).members, [P1, P2]);
    assert.deepEqual(await dependsOnNames("shared-generations"), [
      "shared-image",
      "shared-promote",
      `shared-member-${P1}`,
      `shared-member-${P2}`,
      `shared-accept-${P2}`,
    ]);
  });

  it("rotates on a new build, keepGenerations or members, never as a replacement, and removes the family on delete", async () => {
    new NixosImage("rot", { keepGenerations: 5 }, opts);
    const rotate = await registeredNamed("rot-generations");
    assert.match(rotate.inputs.create, /nixos-image-testboot\.js rotate$/);
    assert.match(rotate.inputs.delete, /nixos-image-testboot\.js remove-family$/);
    assert.equal(rotate.inputs.triggers, undefined);
    assert.equal(rotate.inputs.environment.NCI_KEEP_GENERATIONS, "5");
    assert.match(rotate.inputs.environment.NCI_BUILD, /^[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(rotate.inputs.stdin.value), {
      family: "nixos-cloud-image/unit/rot",
      imageId: "rot-image-id",
      keep: 5,
      members: [],
      openstack: {},
    });
  });
});
