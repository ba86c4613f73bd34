import assert from "node:assert/strict";
import { childrenOf, registeredNamed, useMocks, valueOf } from "../support/pulumiMocks.ts";

describe("NixosImage during preview (mocked engine)", () => {
  let NixosImage: typeof import("../../components/index.ts").NixosImage;

  before(async () => {
    await useMocks(true);
    ({ NixosImage } = await import("../../components/index.ts"));
  });
  after(() => useMocks(false));

  it("registers the build, the image and the test boot without running any, and leaves their outputs unknown", async () => {
    const image = new NixosImage("preview", {
      verify: { flavorName: "f", networkName: "n", sshSourceCidr: "10.0.0.0/8" },
    });
    assert.equal(await valueOf(image.imagePath), undefined);
    assert.equal(await valueOf(image.imageName), undefined);
    assert.equal(await valueOf(image.verification), undefined);
    assert.equal(await valueOf(image.rotationPlan), undefined);
    await registeredNamed("preview-generations");
    // `pulumi preview` shows that the check will run: its Command is planned like any resource.
    assert.deepEqual(
      childrenOf("preview")
        .filter((r) => r.name !== "preview")
        .map((r) => `${r.type} ${r.name}`),
      [
        "command:local:Command preview-build",
        "command:local:Command preview-family",
        "command:local:Command preview-file",
        "openstack:images/image:Image preview-image",
        "command:local:Command preview-verify",
        "command:local:Command preview-promote",
        "command:local:Command preview-generations",
      ],
    );
  });
});
