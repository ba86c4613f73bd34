import assert from "node:assert/strict";
import { parsePromoteRequest, parseTestBootRequest } from "../../testboot/request.ts";

const good = {
  owner: "p/s/n",
  tag: "0123456789ab",
  imageId: "i",
  flavorName: "f",
  networkName: "n",
  sshSourceCidr: "10.0.0.0/8",
  timeout: 600,
  expectFiles: ["/etc/nixos/configuration.nix"],
  openstack: { cloud: "c" },
};

describe("the test boot's request", () => {
  it("is read with its optional fields", () => {
    assert.deepEqual(parseTestBootRequest(JSON.stringify(good)), good);
    const full = { ...good, floatingIpPool: "public", expectKernel: "6.1.0" };
    assert.deepEqual(parseTestBootRequest(JSON.stringify(full)), full);
  });

  const bad: [string, unknown, RegExp][] = [
    ["not JSON", "{", /"stdin" must be one JSON document/],
    ["a missing image", { ...good, imageId: "" }, /"imageId" must be a non-empty string; received ""/],
    [
      "a bad timeout",
      { ...good, timeout: 1.5 },
      /"timeout" must be a positive whole number of seconds; received 1.5/,
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

  it("for promotion names a Glance visibility", () => {
    assert.deepEqual(
      parsePromoteRequest('{"imageId":"i","file":"/f","visibility":"community","openstack":{}}'),
      {
        imageId: "i",
        file: "/f",
        visibility: "community",
        openstack: {},
      },
    );
    assert.throws(
      () => parsePromoteRequest('{"imageId":"i","file":"/f","visibility":"everyone","openstack":{}}'),
      /"visibility" must be private, shared, community or public; received "everyone"/,
    );
  });
});
