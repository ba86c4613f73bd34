import assert from "node:assert/strict";
import { childrenOf, useMocks, valueOf } from "../support/pulumiMocks.ts";

describe("NixosImage during preview (mocked engine)", () => {
  let NixosImage: typeof import("../../components/index.ts").NixosImage;

  before(async () => {
    await useMocks(true);
    ({ NixosImage } = await import("../../components/index.ts"));
  });
  after(() => useMocks(false));

  it("registers the build and the image without running nix-build, and leaves their outputs unknown", async () => {
    const image = new NixosImage("preview", {
      verify: { flavorName: "f", networkName: "n", sshSourceCidr: "10.0.0.0/8" },
    });
    assert.equal(await valueOf(image.imagePath), undefined);
    assert.equal(await valueOf(image.imageName), undefined);
    assert.equal(await valueOf(image.verification), undefined);
    const types = childrenOf("preview").map((r) => r.type);
    assert.ok(types.includes("command:local:Command"));
    assert.ok(types.includes("openstack:images/image:Image"));
    assert.ok(types.includes("openstack:compute/instance:Instance"));
  });
});
