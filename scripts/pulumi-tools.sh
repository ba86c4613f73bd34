#!/usr/bin/env bash
# Builds the Pulumi CLI, the Node.js, Python and YAML language hosts and the command/openstack resource
# plugins with Go, into a cache outside the repo, for the engine tier on machines that reach the Go module
# proxy but not github.com or get.pulumi.com:
#   - the CLI from the Go module pinned in tools/pulumi (the proxy serves it);
#   - the language hosts and both plugins from their unmodified upstream release sources (the proxy does
#     not serve those modules), each archive checked against the SHA-256 below before it is built.
# The cache key is the versions, the archives' checksums, tools/pulumi's go.mod/go.sum and the Python
# host's exec script (tools/pulumi-language-python-exec), so a bump
# rebuilds and a repeat run takes milliseconds (a cached run does not even need the archives).
#
#   eval "$(scripts/pulumi-tools.sh env)"   # build if needed, then export PATH etc.
#   scripts/pulumi-tools.sh build           # build only
#
# Build progress goes to stderr; `env` prints only `export` lines on stdout.
set -euo pipefail

PULUMI_VERSION=v3.274.1  # tools/pulumi/go.mod pins the same pkg/v3 and sdk/v3
NODEJS_HOST_VERSION=v3.259.0
PYTHON_HOST_VERSION=v3.259.0  # runs Python programs that use the package (pulumi-package/)
YAML_HOST_VERSION=v1.38.1     # runs YAML programs that use the package
COMMAND_VERSION=1.2.1     # @pulumi/command in package.json
OPENSTACK_VERSION=3.15.2  # @pulumi/openstack in package.json

# The upstream sources: archives of the release tags, fetched from GitHub (where it is reachable) as
#   https://github.com/pulumi/pulumi-command/archive/refs/tags/v1.2.1.tar.gz      (provider/ is used)
#   https://github.com/pulumi/pulumi-openstack/archive/refs/tags/v3.15.2.tar.gz   (provider/ is used)
#   https://github.com/pulumi/pulumi/archive/refs/tags/v3.259.0.tar.gz            (sdk/nodejs/cmd/pulumi-language-nodejs,
#                                                                                    sdk/python/cmd/pulumi-language-python)
#   https://github.com/pulumi/pulumi-yaml/archive/refs/tags/v1.38.1.tar.gz        (cmd/pulumi-language-yaml)
# and kept, under the names below, in NCI_UPSTREAM_DIR (default: ../shared/upstream beside the repo).
COMMAND_ARCHIVE=pulumi-command-1.2.1.tar.gz
COMMAND_SHA256=88b26e9c4e6088a8865ca5dfc116c01805265b8ce450d7de5f6f7cce7ba1c592
OPENSTACK_ARCHIVE=pulumi-openstack-3.15.2.tar.gz
OPENSTACK_SHA256=20c70471c4fe87477559fdc3b100a4c05bcdfa8bc45fcb2f7c023286848d9f9a
NODEJS_HOST_ARCHIVE=pulumi-language-nodejs-3.259.0.tar.gz
NODEJS_HOST_SHA256=25e638aa75fb13c33f56375785886a3b146a880208c60c058b55219f18ff75e1
PYTHON_HOST_ARCHIVE=pulumi-language-python-3.259.0.tar.gz
PYTHON_HOST_SHA256=4a78c5f8e1446f1e426f5bb7899a969a136b2ab5938f4fbc8a8d49f6572ff9e2
YAML_HOST_ARCHIVE=pulumi-yaml-1.38.1.tar.gz
YAML_HOST_SHA256=870448d4c15a220d443d8fb214a4fb88ffd654826f26d4f45e558ec6ac7a9a1e

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools="$repo/tools"
upstream=${NCI_UPSTREAM_DIR:-$repo/../shared/upstream}
cache_root=${NCI_TOOLS_CACHE:-$HOME/.cache/nixos-cloud-image/tools}

# Use the machine's Go even when /usr/local/go/bin is not on PATH (CI), and
# never let a go.mod trigger a toolchain download.
go_bin=$(command -v go || echo /usr/local/go/bin/go)
export GOTOOLCHAIN=local

key=$(
  cd "$tools"
  { echo "$PULUMI_VERSION $NODEJS_HOST_VERSION $PYTHON_HOST_VERSION $YAML_HOST_VERSION $COMMAND_VERSION $OPENSTACK_VERSION"
    echo "$COMMAND_SHA256 $OPENSTACK_SHA256 $NODEJS_HOST_SHA256 $PYTHON_HOST_SHA256 $YAML_HOST_SHA256"
    cat "$tools/pulumi-language-python-exec"
    find . -type f \( -name go.mod -o -name go.sum -o -name '*.go' \) -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
)
dir="$cache_root/$key"
bin="$dir/bin"           # goes first on PATH: pulumi + the language hosts
home="$dir/pulumi-home"  # PULUMI_HOME: resource plugins are installed here

die() { echo "pulumi-tools: $*" >&2; exit 1; }

# unpack ARCHIVE SHA256: checks the archive, then extracts it into $dir/src. Nothing is built from an
# archive whose checksum differs from the one this script was written against.
unpack() {
  local archive="$upstream/$1" want=$2 got
  [[ -f $archive ]] || die "$archive is missing. The plugins are built from their upstream release sources:
  $COMMAND_ARCHIVE       pulumi/pulumi-command tag v$COMMAND_VERSION
  $OPENSTACK_ARCHIVE     pulumi/pulumi-openstack tag v$OPENSTACK_VERSION
  $NODEJS_HOST_ARCHIVE   pulumi/pulumi tag $NODEJS_HOST_VERSION
  $PYTHON_HOST_ARCHIVE   pulumi/pulumi tag $PYTHON_HOST_VERSION
  $YAML_HOST_ARCHIVE   pulumi/pulumi-yaml tag $YAML_HOST_VERSION
(GitHub's tag archives; see the top of $0). Put them in ${NCI_UPSTREAM_DIR:-../shared/upstream beside the repo}, or set NCI_UPSTREAM_DIR."
  got=$(sha256sum "$archive" | cut -d' ' -f1)
  [[ $got == "$want" ]] || die "$archive has SHA-256 $got, expected $want: refusing to build it"
  tar -xzf "$archive" -C "$dir/src"
}

# build_one NAME DIR PACKAGE LDFLAGS OUT: one progress line per binary.
build_one() {
  local name=$1 src=$2 pkg=$3 ldflags=$4 out=$5 start=$SECONDS
  echo "pulumi-tools: building $name ..." >&2
  # -buildvcs=false: the repo's git state must not change the binary or the cache.
  (cd "$src" && "$go_bin" build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out" "$pkg") >&2
  echo "pulumi-tools: built $name in $((SECONDS - start))s ($(du -h "$out" | cut -f1))" >&2
}

build() {
  [[ -e "$dir/.done" ]] && return 0
  mkdir -p "$cache_root"
  # Serialise concurrent runs (two shells, CI + a developer) on the same key.
  exec 9>"$dir.lock"
  flock 9
  if [[ ! -e "$dir/.done" ]]; then
    rm -rf "$dir" && mkdir -p "$bin" "$home" "$dir/src" "$dir/tmp"
    # Check every archive before the first (long) build, so a missing one fails in a second.
    unpack "$COMMAND_ARCHIVE" "$COMMAND_SHA256"
    unpack "$OPENSTACK_ARCHIVE" "$OPENSTACK_SHA256"
    unpack "$NODEJS_HOST_ARCHIVE" "$NODEJS_HOST_SHA256"
    unpack "$PYTHON_HOST_ARCHIVE" "$PYTHON_HOST_SHA256"
    unpack "$YAML_HOST_ARCHIVE" "$YAML_HOST_SHA256"
    local src="$dir/src" sdkver="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"

    build_one pulumi "$tools/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$sdkver=$PULUMI_VERSION" "$bin/pulumi"

    # The Node.js and Python hosts' go.mod point pkg/v3 and sdk/v3 into the monorepo (replace => ../../..);
    # require the served releases of their own version instead. Other requirements stay as upstream's.
    local lang host
    for lang in nodejs python; do
      local version_var="${lang^^}_HOST_VERSION"
      local version=${!version_var}
      host="$src/pulumi-${version#v}/sdk/$lang/cmd/pulumi-language-$lang"
      sed -i '/pulumi\/pkg\/v3 => /d; /pulumi\/sdk\/v3 => /d' "$host/go.mod"
      (cd "$host" && "$go_bin" mod edit -require="github.com/pulumi/pulumi/pkg/v3@$version" \
        -require="github.com/pulumi/pulumi/sdk/v3@$version")
      GOFLAGS=-mod=mod build_one "pulumi-language-$lang" "$host" . "$sdkver=$version" "$bin/pulumi-language-$lang"
    done
    # The Python host runs programs through this script (upstream ships it beside the host's binary).
    install -m 0755 "$tools/pulumi-language-python-exec" "$bin/pulumi-language-python-exec"

    # The YAML host requires released pulumi modules already: its go.mod builds as it is.
    GOFLAGS=-mod=mod build_one pulumi-language-yaml "$src/pulumi-yaml-${YAML_HOST_VERSION#v}" ./cmd/pulumi-language-yaml \
      "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$YAML_HOST_VERSION" "$bin/pulumi-language-yaml"

    build_one pulumi-resource-command "$src/pulumi-command-$COMMAND_VERSION/provider" ./cmd/pulumi-resource-command \
      "-X github.com/pulumi/pulumi-command/provider/pkg/version.Version=$COMMAND_VERSION" "$dir/tmp/pulumi-resource-command"

    # main.go embeds schema-embed.json, which upstream's Makefile copies from schema.json.
    local os="$src/pulumi-openstack-$OPENSTACK_VERSION/provider"
    cp "$os/cmd/pulumi-resource-openstack/schema.json" "$os/cmd/pulumi-resource-openstack/schema-embed.json"
    build_one pulumi-resource-openstack "$os" ./cmd/pulumi-resource-openstack \
      "-X github.com/pulumi/pulumi-openstack/provider/v3/pkg/version.Version=$OPENSTACK_VERSION" "$dir/tmp/pulumi-resource-openstack"

    # Resource plugins go into PULUMI_HOME rather than PATH: the CLI warns about
    # (and would use any version of) plugins it finds on PATH.
    for p in "command:$COMMAND_VERSION" "openstack:$OPENSTACK_VERSION"; do
      PULUMI_HOME="$home" PULUMI_SKIP_UPDATE_CHECK=1 "$bin/pulumi" plugin install resource "${p%%:*}" "${p#*:}" \
        --file "$dir/tmp/pulumi-resource-${p%%:*}" >&2
    done
    rm -rf "$dir/tmp" "$dir/src"
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
