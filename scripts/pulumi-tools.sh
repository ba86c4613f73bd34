#!/usr/bin/env bash
# Builds the Pulumi CLI, the Node.js language host and the command/openstack
# resource plugins from the Go modules pinned in tools/ (nothing is downloaded
# from github.com or get.pulumi.com: only the Go module proxy is reachable),
# into a cache outside the repo, keyed by a hash of tools/ (go.mod, go.sum and
# the Go sources), so a version bump rebuilds and a repeat run takes seconds.
#
#   eval "$(scripts/pulumi-tools.sh env)"   # build if needed, then export PATH etc.
#   scripts/pulumi-tools.sh build           # build only
#
# Build progress goes to stderr; `env` prints only `export` lines on stdout.
set -euo pipefail

PULUMI_VERSION=v3.274.1   # tools/pulumi/go.mod pins the same pkg/v3 and sdk/v3
NODEJS_HOST_VERSION=v3.68.0  # tools/nodejs/go.mod: the newest served sdk/v3 that holds the host
COMMAND_VERSION=1.2.1     # @pulumi/command in package.json
OPENSTACK_VERSION=3.15.2  # @pulumi/openstack in package.json

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$repo/tools"
cache_root=${NCI_TOOLS_CACHE:-$HOME/.cache/nixos-cloud-image/tools}

# Use the machine's Go even when /usr/local/go/bin is not on PATH (CI), and
# never let go.mod trigger a toolchain download.
go_bin=$(command -v go || echo /usr/local/go/bin/go)
export GOTOOLCHAIN=local

key=$(
  cd "$tools"
  { echo "$PULUMI_VERSION $NODEJS_HOST_VERSION $COMMAND_VERSION $OPENSTACK_VERSION"
    find . -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)
dir="$cache_root/$key"
bin="$dir/bin"           # goes first on PATH: pulumi + pulumi-language-nodejs
home="$dir/pulumi-home"  # PULUMI_HOME: resource plugins are installed here

# build_one NAME MODULE_DIR PACKAGE LDFLAGS OUT: one progress line per binary.
build_one() {
  local name=$1 mod=$2 pkg=$3 ldflags=$4 out=$5 start=$SECONDS
  echo "pulumi-tools: building $name ..." >&2
  # -buildvcs=false: the repo's git state must not change the binary or the cache.
  (cd "$tools/$mod" && "$go_bin" build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out" "$pkg") >&2
  echo "pulumi-tools: built $name in $((SECONDS - start))s ($(du -h "$out" | cut -f1))" >&2
}

build() {
  [[ -e "$dir/.done" ]] && return 0
  mkdir -p "$cache_root"
  # Serialise concurrent runs (two shells, CI + a developer) on the same key.
  exec 9>"$dir.lock"
  flock 9
  if [[ ! -e "$dir/.done" ]]; then
    rm -rf "$dir" && mkdir -p "$bin" "$home" "$dir/tmp"
    local sdkver="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
    build_one pulumi pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$sdkver" "$bin/pulumi"
    build_one pulumi-language-nodejs nodejs github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
      "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$NODEJS_HOST_VERSION" "$bin/pulumi-language-nodejs"
    build_one pulumi-resource-command pulumi ./cmd/pulumi-resource-command \
      "-X main.Version=$COMMAND_VERSION" "$dir/tmp/pulumi-resource-command"
    build_one pulumi-resource-openstack openstack . \
      "-X main.Version=$OPENSTACK_VERSION" "$dir/tmp/pulumi-resource-openstack"
    # Resource plugins go into PULUMI_HOME rather than PATH: the CLI warns about
    # (and would use any version of) plugins it finds on PATH.
    for p in "command:$COMMAND_VERSION" "openstack:$OPENSTACK_VERSION"; do
      PULUMI_HOME="$home" PULUMI_SKIP_UPDATE_CHECK=1 "$bin/pulumi" plugin install resource "${p%%:*}" "${p#*:}" \
        --file "$dir/tmp/pulumi-resource-${p%%:*}" >&2
    done
    rm -rf "$dir/tmp"
    touch "$dir/.done"
  fi
  flock -u 9
}

case "${1:-}" in
  build) build ;;
  env)
    build
    # shellcheck disable=SC2016 # $PATH is expanded by the caller's eval, on purpose
    printf 'export PATH=%q:"$PATH"\n' "$bin"
    printf 'export PULUMI_HOME=%q\n' "$home"
    echo 'export PULUMI_SKIP_UPDATE_CHECK=1'
    echo 'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=1'
    ;;
  *) echo "usage: $0 env|build" >&2; exit 2 ;;
esac
