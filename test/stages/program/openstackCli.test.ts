import assert from "node:assert/strict";
import { cliEnvironment, cliGlobalArgs, maskSecrets } from "../../../stages/program/openstackCli.ts";

describe("openstackCli", () => {
  it("turns the stack's provider settings into the OS_* variables, over the caller's", () => {
    const env = cliEnvironment(
      { cloud: "prod", password: "pw", tenantName: "team", region: "east", maxRetries: "3" },
      { OS_CLOUD: "other", OS_CLIENT_CONFIG_FILE: "/etc/clouds.yaml", PATH: "/bin" },
    );
    assert.deepEqual(env, {
      OS_CLOUD: "prod",
      OS_CLIENT_CONFIG_FILE: "/etc/clouds.yaml",
      PATH: "/bin",
      OS_PASSWORD: "pw",
      OS_PROJECT_NAME: "team",
      OS_REGION_NAME: "east",
    });
  });

  it("selects the auth type for a token or an application credential", () => {
    assert.equal(cliEnvironment({ token: "t" }, {}).OS_AUTH_TYPE, "token");
    assert.equal(
      cliEnvironment({ applicationCredentialId: "i", applicationCredentialSecret: "s" }, {}).OS_AUTH_TYPE,
      "v3applicationcredential",
    );
  });

  it("passes insecure as the flag, and masks secrets in quoted output", () => {
    assert.deepEqual(cliGlobalArgs({ insecure: "true" }), ["--insecure"]);
    assert.deepEqual(cliGlobalArgs({ insecure: "false" }), []);
    assert.equal(
      maskSecrets("auth failed for pw at pw", { password: "pw" }),
      "auth failed for [secret] at [secret]",
    );
  });
});
