// Pulumi's Node.js host starts the package with `require(<this directory>)`, with no way to pass Node options
// such as `--import tsx` (PulumiPlugin.yaml has no nodeargs for a plugin). So the package registers tsx itself
// and loads its TypeScript entry point (index.ts), which the schema is inferred from too.
// CommonJS on purpose: the host's require() must get the exports synchronously.
const tsx = require("tsx/cjs/api");

module.exports = tsx.require("./index.ts", __filename);
