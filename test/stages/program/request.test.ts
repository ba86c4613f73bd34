import assert from "node:assert/strict";
import {
  parseFamilyRequest,
  parseGenerationsRequest,
  parsePromoteRequest,
  parseTestBootRequest,
} from "../../../stages/program/request.ts";

const good = {
  owner: "p/s/n",
  tag: "0123456789ab",
  family: "nci-1b4e28ba-2fa1-11d2-883f-0016d3cca427",
  imageId: "i",
  uploads: [
    { imageId: "i", openstack: { cloud: "c", region: "RegionOne" } },
    { imageId: "j", openstack: { cloud: "c", region: "RegionTwo" } },
  ],
  flavorName: "f",
  networkName: "n",
  sshSourceCidr: "10.0.0.0/8",
  timeout: 600,
  configDrive: false,
  requireHostKeyPin: true,
  expectFiles: ["/etc/nixos/configuration.nix"],
  openstack: { cloud: "c" },
};
const SHA = "0f".repeat(64);

describe("the test boot's request", () => {
  it("is read with its optional fields, the family and every region's upload", () => {
    assert.deepEqual(parseTestBootRequest(JSON.stringify(good)), good);
    const full = { ...good, floatingIpPool: "public", expectKernel: "6.1.0" };
    assert.deepEqual(parseTestBootRequest(JSON.stringify(full)), full);
  });

  const bad: [string, unknown, RegExp][] = [
    ["not JSON", "{", /"stdin" must be one JSON document/],
    ["a missing image", { ...good, imageId: "" }, /"imageId" must be a non-empty string; received ""/],
    ["no family", { ...good, family: undefined }, /"family" must be a non-empty string; received undefined/],
    ["no uploads", { ...good, uploads: [] }, /"uploads" must be a non-empty list; received \[\]/],
    [
      "an upload without its image",
      { ...good, uploads: [{ openstack: {} }] },
      /"uploads\[0\]\.imageId" must be a non-empty string; received undefined/,
    ],
    [
      "a bad timeout",
      { ...good, timeout: 1.5 },
      /"timeout" must be a whole number of seconds from 10 to 3600; received 1.5/,
    ],
    [
      "settings that are not strings",
      { ...good, openstack: { insecure: true } },
      /"openstack" must be a map of strings/,
    ],
  ];
  for (const [what, doc, message] of bad) {
    it(`is refused with ${what}`, () => {
      assert.throws(() => parseTestBootRequest(typeof doc === "string" ? doc : JSON.stringify(doc)), message);
    });
  }

  it("for promotion carries the family, the SHA-512 recorded at build time (no file), a Glance visibility and the metadata", () => {
    const promote = {
      imageId: "i",
      family: "nci-00000000-0000-4000-8000-00000000000a",
      sha512: SHA,
      visibility: "community",
      properties: { a: "b" },
      minRamMb: 512,
      openstack: {},
    };
    assert.deepEqual(parsePromoteRequest(JSON.stringify(promote)), promote);
    assert.throws(
      () => parsePromoteRequest(JSON.stringify({ ...promote, visibility: "everyone" })),
      /"visibility" must be one of private, shared, community, public; received "everyone"/,
    );
    assert.throws(
      () => parsePromoteRequest(JSON.stringify({ ...promote, sha512: "0badc0de" })),
      /"sha512" must be 128 hex digits; received "0badc0de"/,
    );
    assert.throws(
      () => parsePromoteRequest(JSON.stringify({ ...promote, family: undefined })),
      /"family" must be a non-empty string/,
    );
    assert.throws(
      () => parsePromoteRequest(JSON.stringify({ ...promote, properties: { a: 1 } })),
      /"properties" must be a map of strings/,
    );
    assert.throws(
      () => parsePromoteRequest(JSON.stringify({ ...promote, minRamMb: "512" })),
      /"minRamMb" must be a whole number/,
    );
  });

  it("for rotation carries keep, visibility, members and the upload timeout", () => {
    const rotation = {
      family: "nci-00000000-0000-4000-8000-00000000000a",
      imageId: "i",
      keep: 3,
      visibility: "shared",
      members: ["0123456789abcdef0123456789abcdef"],
      uploadTimeoutMinutes: 60,
      openstack: {},
    };
    assert.deepEqual(parseGenerationsRequest(JSON.stringify(rotation)), rotation);
    assert.throws(
      () => parseGenerationsRequest(JSON.stringify({ ...rotation, keep: 0 })),
      /"keep" must be a whole number of generations from 1 to 100; received 0/,
    );
    assert.throws(
      () => parseGenerationsRequest(JSON.stringify({ ...rotation, uploadTimeoutMinutes: undefined })),
      /"uploadTimeoutMinutes" must be a whole number of minutes from 1 to 1440; received undefined/,
    );
    assert.throws(
      () => parseGenerationsRequest(JSON.stringify({ ...rotation, members: [""] })),
      /"members\[0\]" must be a Keystone project ID \(32 hex digits\); received ""/,
    );
  });

  it("for the family's end carries the upload timeout and the provider settings", () => {
    assert.deepEqual(parseFamilyRequest('{"uploadTimeoutMinutes":30,"openstack":{"cloud":"c"}}'), {
      uploadTimeoutMinutes: 30,
      openstack: { cloud: "c" },
    });
    assert.throws(
      () => parseFamilyRequest('{"openstack":{}}'),
      /"uploadTimeoutMinutes" must be a whole number/,
    );
    assert.throws(
      () => parseFamilyRequest('{"uploadTimeoutMinutes":30}'),
      /"openstack" must be a map of strings; received undefined/,
    );
  });

  it("refuses a family that is not a family ID (a name-derived one several stacks may share)", () => {
    assert.throws(
      () =>
        parseGenerationsRequest(
          JSON.stringify({
            family: "nixos-cloud-image/dev/nixos",
            imageId: "i",
            keep: 3,
            visibility: "private",
            members: [],
            uploadTimeoutMinutes: 30,
            openstack: {},
          }),
        ),
      /"family" must be a family ID \(nci-<uuid>\); received "nixos-cloud-image\/dev\/nixos"/,
    );
  });
});
