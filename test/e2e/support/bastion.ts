// A bastion for the test boot's sshProxyJump: a real sshd in the router's namespace, which is on the tenant
// network (servers there have no other way in from outside but floating IPs) and on the external one, where the
// deployer reaches it. The deployer's hop uses an OpenSSH config of its own (key, and the bastion's host key
// known beforehand), as verify.sshJumpConfig.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ComputeCloud } from "./computeCloud.ts";
import { makeKeyPair, startSshd, testUser, writeJumpConfig } from "../../support/sshd.ts";
import type { Sshd } from "../../support/sshd.ts";

export interface Bastion {
  /** verify.sshProxyJump: user@gateway:port. */
  jump: string;
  /** verify.sshJumpConfig. */
  configFile: string;
  /** The router's address on the tenant network: what the server sees SSH come from. */
  tenantSide: string;
  sshd: Sshd;
  stop(): Promise<void>;
}

const PORT = 2222;

export async function startBastion(cloud: ComputeCloud, tenantGateway: string): Promise<Bastion> {
  const dir = await mkdtemp(join(tmpdir(), "nci-bastion-"));
  try {
    const { enter, gateway } = await cloud.router();
    const key = await makeKeyPair(dir, "deployer");
    const sshd = await startSshd({
      userKeys: [key.publicKey],
      allowTcpForwarding: true,
      listen: { address: gateway, port: PORT },
      prefix: enter,
    });
    const configFile = await writeJumpConfig(dir, key.privateKeyFile, sshd);
    return {
      jump: `${testUser}@${gateway}:${PORT}`,
      configFile,
      tenantSide: tenantGateway,
      sshd,
      async stop() {
        await sshd.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
