// Mocha root hooks of the engine tier: the compute cloud that test files share is stopped once, after all
// of them (a file's own `after` would stop it under the next file).
import { stopComputeCloud } from "./computeCloud.ts";

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(300_000);
    await stopComputeCloud();
  },
};
