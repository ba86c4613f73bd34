// Promotion (SHA-512, family, visibility, the promoted mark, metadata in place) and the test boot's verdict on
// the image, against an in-memory Glance behind the Cli interface (unit tier).
import assert from "node:assert/strict";
import { promote } from "../../../stages/promote/run.ts";
import type { PromoteRequest, TestBootRequest } from "../../../stages/program/request.ts";
import { earlierVerdict, imageToVerify, recordPass } from "../../../stages/testboot/verdict.ts";
import { FAMILY, fakeCloud, image, minutesAgo } from "../../support/fakeGlance.ts";

const SHA = "5e".repeat(64);
const upload = () =>
  image("new", minutesAgo(10), { properties: { os_hash_algo: "sha512", os_hash_value: SHA } });
const request: PromoteRequest = {
  imageId: "new",
  family: FAMILY,
  sha512: SHA,
  visibility: "public",
  properties: { nixos_cloud_image_family: FAMILY, os_distro: "nixos", team: "infra" },
  minRamMb: 1024,
  openstack: {},
};
const quiet = () => undefined;

describe("promotion", () => {
  it("with no local file, unhides the upload whose SHA-512 is the recorded one, applies visibility and the metadata, and marks it promoted", async () => {
    const cloud = fakeCloud([upload()]);
    const record = await promote(cloud.cli, request, undefined, quiet);
    const promoted = cloud.find("new");
    assert.deepEqual([promoted.visibility, promoted.hidden, promoted.minRam], ["public", false, 1024]);
    assert.equal(promoted.properties.nixos_cloud_image_exposed, "public");
    assert.equal(promoted.properties.team, "infra");
    assert.match(promoted.properties.nixos_cloud_image_promoted, /^20\d\d-\d\d-\d\dT/);
    assert.deepEqual(record, { properties: request.properties });
  });

  it("keeps the first promotion's time when it runs again (the time orders the generations)", async () => {
    const cloud = fakeCloud([upload()]);
    cloud.find("new").properties.nixos_cloud_image_promoted = "2026-01-01T00:00:00.000Z";
    await promote(cloud.cli, { ...request, visibility: "private" }, undefined, quiet);
    assert.equal(cloud.find("new").properties.nixos_cloud_image_promoted, "2026-01-01T00:00:00.000Z");
    assert.doesNotMatch(cloud.calls.join("\n"), /nixos_cloud_image_promoted/);
    // Private: no exposed mark is added.
    assert.equal(cloud.find("new").properties.nixos_cloud_image_exposed, undefined);
  });

  it("removes the properties it set last time and no longer sets, and only those", async () => {
    const cloud = fakeCloud([upload()]);
    cloud.find("new").properties.dropped = "x";
    cloud.find("new").properties.set_by_hand = "y";
    const previous = JSON.stringify({ properties: { ...request.properties, dropped: "x" } });
    await promote(cloud.cli, request, previous, quiet);
    assert.ok(cloud.calls.includes("image unset --property dropped new"), cloud.calls.join("\n"));
    assert.equal(cloud.find("new").properties.dropped, undefined);
    assert.equal(cloud.find("new").properties.set_by_hand, "y");
    assert.equal(cloud.find("new").properties.team, "infra");
  });

  it("removes nothing the image does not carry: the record may be the previous generation's", async () => {
    const cloud = fakeCloud([upload()]);
    const previous = JSON.stringify({ properties: { ...request.properties, dropped: "x" } });
    await promote(cloud.cli, request, previous, quiet);
    assert.doesNotMatch(cloud.calls.join("\n"), /image unset/);
  });

  it("refuses an upload whose SHA-512 is not the recorded one, and changes nothing", async () => {
    const cloud = fakeCloud([upload()]);
    cloud.find("new").properties.os_hash_value = "0badc0de";
    await assert.rejects(
      promote(cloud.cli, request, undefined, quiet),
      /Glance's hash of image new \(sha512: 0badc0de\) is not the SHA-512 recorded when the image was built \((5e){64}\): the upload is not the file built/,
    );
    assert.deepEqual(cloud.calls, []);
  });

  it("refuses an image that carries another family's ID, and changes nothing", async () => {
    const cloud = fakeCloud([upload()]);
    cloud.find("new").properties.nixos_cloud_image_family = "nci-someone-else";
    await assert.rejects(
      promote(cloud.cli, request, undefined, quiet),
      /carries another family's ID \(nixos_cloud_image_family=nci-someone-else, not /,
    );
    assert.deepEqual(cloud.calls, []);
  });

  it("adopts the stack's image of an earlier version's name-derived family into the family ID", async () => {
    const cloud = fakeCloud([upload()]);
    cloud.find("new").properties.nixos_cloud_image_family = "nixos-cloud-image/prod/nixos";
    const lines: string[] = [];
    await promote(cloud.cli, request, undefined, (l) => lines.push(l));
    assert.equal(cloud.find("new").properties.nixos_cloud_image_family, FAMILY);
    assert.match(
      lines.join("\n"),
      /carries the name-derived family nixos-cloud-image\/prod\/nixos of an earlier version: it joins family /,
    );
  });
});

describe("the test boot's verdict on the image", () => {
  const boot = {
    owner: "p/s/n",
    tag: "0123456789ab",
    family: FAMILY,
    imageId: "new",
    uploads: [{ imageId: "new", openstack: {} }],
    flavorName: "f",
    networkName: "n",
    sshSourceCidr: "10.0.0.0/8",
    timeout: 60,
    configDrive: false,
    requireHostKeyPin: true,
    expectFiles: [],
    openstack: {},
  } satisfies TestBootRequest;

  it("refuses an image that is not the family's (another project's, or gone), naming pulumi up --refresh", async () => {
    const foreign = fakeCloud([image("new", minutesAgo(1), { owner: "proj-other" })]);
    await assert.rejects(
      imageToVerify(foreign.cli, boot),
      /image new is gone .*or is not this stack's any more.*pulumi up --refresh/,
    );
    await assert.rejects(imageToVerify(fakeCloud([]).cli, boot), /pulumi up --refresh/);
  });

  it("records a pass on the image, and reads it back as the verified mark", async () => {
    const cloud = fakeCloud([upload()]);
    assert.equal((await imageToVerify(cloud.cli, boot)).verified, undefined);
    await recordPass(cloud.cli, { ...earlierVerdict(boot, "x"), checks: [], serverId: "srv-1" });
    assert.match(cloud.find("new").properties.nixos_cloud_image_verified, /checks passed on server srv-1/);
    assert.match((await imageToVerify(cloud.cli, boot)).verified ?? "", /server srv-1/);
    assert.equal(earlierVerdict(boot, "earlier").alreadyVerified, "earlier");
  });
});
