#!/usr/bin/env bash
# Installs Node.js 22 and npm system-wide, for every shell of this machine: the npm registry's
# node-linux-<arch>@22 (the official binary) and npm@10, unpacked under /usr/local/lib/nodejs-22, with node,
# npm and npx linked in /usr/local/bin, which comes before /usr/bin on Debian's and Ubuntu's default PATH. So
# the distribution's older Node (Debian 12: v18 or v20) stays installed and is no longer the one found.
# Each package is checked against the registry's SHA-512 before it is unpacked. Needs root, curl and python3.
#
#   scripts/install-node.sh            # prints the directory it installed into
# NODE_HOME (default /usr/local/lib/nodejs-22) and NPM_CONFIG_REGISTRY (default: npm's, else the public one)
# choose other places.
set -euo pipefail

home=${NODE_HOME:-/usr/local/lib/nodejs-22}
links=${NODE_LINKS:-/usr/local/bin}
registry=${NPM_CONFIG_REGISTRY:-$( (command -v npm >/dev/null && npm config get registry 2>/dev/null) || echo https://registry.npmjs.org/)}
case $(uname -m) in
  x86_64) arch=x64 ;;
  aarch64) arch=arm64 ;;
  *) echo "install-node: no Node.js 22 package for $(uname -m) here; install Node >= 22.12 yourself" >&2; exit 1 ;;
esac

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Downloads the newest NAME@MAJOR's tarball into $tmp/NAME.tgz after checking its integrity; prints its version.
fetch() {
  python3 - "$registry" "$1" "$2" "$tmp/$1.tgz" <<'PY'
import base64, hashlib, json, sys, urllib.request
registry, name, spec, out = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3], sys.argv[4]
# The newest release of major version `spec` (the registry resolves dist-tags and versions, not ranges).
request = urllib.request.Request(f"{registry}/{name}", headers={"Accept": "application/vnd.npm.install-v1+json"})
with urllib.request.urlopen(request, timeout=60) as r:
    versions = json.load(r)["versions"]
key = lambda v: tuple(int(p) for p in v.split("."))
candidates = [v for v in versions if v.split(".")[0] == spec and all(p.isdigit() for p in v.split("."))]
if not candidates:
    sys.exit(f"install-node: the registry {registry} has no {name}@{spec}")
meta = versions[max(candidates, key=key)]
with urllib.request.urlopen(meta["dist"]["tarball"], timeout=600) as r:
    data = r.read()
algo, want = meta["dist"]["integrity"].split("-", 1)
if algo != "sha512" or base64.b64encode(hashlib.sha512(data).digest()).decode() != want:
    sys.exit(f"install-node: {name}@{meta['version']} does not match the registry's integrity; not installed")
open(out, "wb").write(data)
print(meta["version"])
PY
}

node_version=$(fetch "node-linux-$arch" 22)
npm_version=$(fetch npm 10)
mkdir -p "$tmp/home/lib/node_modules/npm"
tar xzf "$tmp/node-linux-$arch.tgz" -C "$tmp/home" --strip-components=1
tar xzf "$tmp/npm.tgz" -C "$tmp/home/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$tmp/home/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$tmp/home/bin/npx"
"$tmp/home/bin/node" --version >/dev/null # runs on this machine before it replaces anything

rm -rf "$home.new"
mkdir -p "$(dirname "$home")" "$links"
mv "$tmp/home" "$home.new"
rm -rf "$home"
mv "$home.new" "$home"
for bin in node npm npx; do ln -sfn "$home/bin/$bin" "$links/$bin"; done
echo "install-node: Node.js $node_version and npm $npm_version in $home; node, npm, npx linked in $links" >&2
echo "$home"
