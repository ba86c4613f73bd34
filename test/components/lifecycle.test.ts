// The lifecycle stages of the component against Pulumi's mocks: regions, sharing, rotation and their order.
import assert from "node:assert/strict";
import type * as pulumi from "@pulumi/pulumi";
import {
  captureOptions,
  childrenOf,
  dependsOnNames,
  fakeFamilyId,
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

  it("names the provider's own region's resources as they were without regions (aliases), so a regions list that names it keeps its family", async () => {
    new NixosImage("moved", { verify, members: [P1], regions: ["RegionOne", "RegionTwo"] }, opts);
    await registeredNamed("moved-member-RegionTwo-" + P1);
    const aliasOf = async (resource: string) => {
      const aliases = optionsOf.get(resource)?.aliases as pulumi.Alias[];
      return valueOf(aliases[0].name as pulumi.Output<string>);
    };
    for (const stage of ["family", "file", "image", "promote", "generations"]) {
      assert.equal(await aliasOf(`moved-${stage}-RegionOne`), `moved-${stage}`, stage);
      assert.equal(await aliasOf(`moved-${stage}-RegionTwo`), `moved-${stage}-RegionTwo`, "its own name");
    }
    assert.equal(await aliasOf(`moved-member-RegionOne-${P1}`), `moved-member-${P1}`);
    new NixosImage("back", {}, opts);
    await registeredNamed("back-generations");
    assert.equal(await aliasOf("back-family"), "back-family-RegionOne", "and back to no regions");
  });

  it("publishes one build to each region, each its own family, verifies in the first, promotes and rotates in each", async () => {
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
      const family = fakeFamilyId(`multi-family-${region}`);
      const familyCommand = await registeredNamed(`multi-family-${region}`);
      assert.deepEqual(JSON.parse(familyCommand.inputs.stdin.value), {
        uploadTimeoutMinutes: 30,
        openstack: { region },
      });
      const upload = await registeredNamed(`multi-image-${region}`);
      assert.equal(upload.inputs.region, region);
      assert.equal(upload.inputs.properties.nixos_cloud_image_family, family);
      const promote = JSON.parse((await registeredNamed(`multi-promote-${region}`)).inputs.stdin.value);
      assert.deepEqual([promote.family, promote.openstack.region], [family, region]);
      const rotate = JSON.parse((await registeredNamed(`multi-generations-${region}`)).inputs.stdin.value);
      assert.deepEqual([rotate.family, rotate.openstack.region], [family, region]);
    }
    assert.deepEqual(
      names.filter((n) => n.includes("verify")),
      ["multi-verify"],
    );
    const boot = JSON.parse((await registeredNamed("multi-verify")).inputs.stdin.value);
    assert.equal(boot.openstack.region, "RegionOne");
    assert.equal(boot.family, fakeFamilyId("multi-family-RegionOne"));
    // A failed check deletes the build's upload in every region: the request names each.
    assert.deepEqual(boot.uploads, [
      { imageId: "multi-image-RegionOne-id", openstack: { region: "RegionOne" } },
      { imageId: "multi-image-RegionTwo-id", openstack: { region: "RegionTwo" } },
    ]);
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
    // Each region's rotation report says what the next build does there.
    assert.deepEqual(await valueOf(image.rotationPlan), {
      RegionOne: { hide: ["multi-image-RegionOne-id"], delete: ["older-id"] },
      RegionTwo: { hide: ["multi-image-RegionTwo-id"], delete: ["older-id"] },
    });
  });

  it("without regions keeps the resource names of one region, in the provider's", async () => {
    new NixosImage("single", {}, opts);
    const upload = await registeredNamed("single-image");
    assert.equal(upload.inputs.region, undefined);
    assert.equal(upload.inputs.properties.nixos_cloud_image_family, fakeFamilyId("single-family"));
    await registeredNamed("single-family");
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

  it("keeps the family ID in a Command of its own whose delete alone ends the family", async () => {
    new NixosImage("fam", {}, opts);
    const family = await registeredNamed("fam-family");
    assert.match(family.inputs.create, /^exec node \S*bin\/nixos-image-testboot\.js new-family$/);
    // Any later change (a new password) prints the ID it is given back: the family stays.
    assert.match(family.inputs.update, /^exec node \S*bin\/nixos-image-testboot\.js keep-family$/);
    assert.equal(family.inputs.addPreviousOutputInEnv, true);
    assert.match(family.inputs.delete, /^exec node \S*bin\/nixos-image-testboot\.js remove-family$/);
    // The provider's settings reach it as a secret on stdin, never in argv.
    assert.equal(family.inputs.stdin["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270");
    // No other stage deletes images: the rotation has no delete, the image is retained.
    await registeredNamed("fam-generations");
    const commands = childrenOf("fam").filter((r) => r.type === "command:local:Command");
    for (const r of commands.filter((r) => r.name !== "fam-family")) {
      // The build's delete only drops its GC root.
      if (r.name === "fam-build") assert.match(r.inputs.delete, /^rm -f \S*gcroots\//);
      else assert.equal(r.inputs.delete, undefined, r.name);
    }
    assert.equal(optionsOf.get("fam-image")?.retainOnDelete, true);
  });

  it("rotates on a new build, keepGenerations, visibility or members, never as a replacement, and deletes nothing on its own delete", async () => {
    new NixosImage("rot", { keepGenerations: 5, visibility: "community", uploadTimeoutMinutes: 30 }, opts);
    const rotate = await registeredNamed("rot-generations");
    assert.match(rotate.inputs.create, /nixos-image-testboot\.js rotate$/);
    assert.equal(rotate.inputs.delete, undefined);
    assert.equal(rotate.inputs.triggers, undefined);
    assert.equal(rotate.inputs.environment.NCI_KEEP_GENERATIONS, "5");
    assert.equal(rotate.inputs.environment.NCI_VISIBILITY, "community");
    assert.equal(rotate.inputs.environment.NCI_MEMBERS, "");
    assert.match(rotate.inputs.environment.NCI_BUILD, /^[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(rotate.inputs.stdin.value), {
      family: fakeFamilyId("rot-family"),
      imageId: "rot-image-id",
      keep: 5,
      visibility: "community",
      members: [],
      uploadTimeoutMinutes: 30,
      openstack: {},
    });
  });
});
