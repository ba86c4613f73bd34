import assert from "node:assert/strict";
import { NIX_DIR, nixEval, nixString } from "../support/nix.ts";

describe("cloud-init's settings (nix/cloud-init-settings.nix)", () => {
  let settings: Record<string, any>;
  before(async () => {
    settings = (await nixEval(`import ${nixString(`${NIX_DIR}/cloud-init-settings.nix`)}`)) as Record<
      string,
      any
    >;
  });

  it('read the config drive, then the metadata service, and fall back to "None" when neither answers.', () => {
    assert.deepEqual(settings.datasource_list, ["ConfigDrive", "OpenStack", "None"]);
  });

  it("neither delete nor generate host keys, so the key sshd started with stays.", () => {
    assert.equal(settings.ssh_deletekeys, false);
    assert.deepEqual(settings.ssh_genkeytypes, []);
  });

  it("leave networking, growing the disk and the distro's defaults to NixOS.", () => {
    assert.equal(settings.network.config, "disabled");
    assert.equal(settings.growpart.mode, "off");
    assert.equal(settings.resize_rootfs, false);
    assert.deepEqual(settings.system_info, { distro: "nixos", network: { renderers: ["networkd"] } });
  });
});
