// Refuses, in one line, to run on a Node.js older than the project needs (execa 10 and @pulumi/pulumi 3.270
// need >= 22.12). Imported first by everything that starts with Node (the bin/ commands the Pulumi Commands
// run, the Pulumi program through Pulumi.yaml's nodeargs, the test runs), so an old Node stops here instead of
// failing inside a dependency with a stack trace. Plain JavaScript without imports: it must run on the old Node.
export const MINIMUM = "22.12";

/** What is wrong with this Node.js, as one line, or undefined when it is new enough. */
export function nodeProblem(version = process.versions.node, execPath = process.execPath) {
  const [major, minor] = String(version).split(".").map(Number);
  const [wantMajor, wantMinor] = MINIMUM.split(".").map(Number);
  if (major > wantMajor || (major === wantMajor && minor >= wantMinor)) return undefined;
  return `needs Node >= ${MINIMUM}; found v${version} at ${execPath}; run scripts/try.sh or install Node 22`;
}

const problem = nodeProblem();
if (problem !== undefined) {
  process.stderr.write(`nixos-cloud-image: ${problem}\n`);
  process.exit(1);
}
