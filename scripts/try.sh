#!/usr/bin/env bash
# One command to see the whole pipeline work on this machine: build → publish → verify, against a local
# OpenStack cloud (Keystone, Glance, Nova, Neutron) that lives in a network namespace of its own.
#
#   scripts/try.sh              # a real NixOS image (needs nixpkgs and the NixOS binary cache)
#   scripts/try.sh --fixture    # a small Debian test image instead, where that cache cannot be reached
#   scripts/try.sh --remove     # pulumi destroy, then stop the local cloud and delete the trial's state
# (also `npm run try -- ...` once Node.js is there)
#
# Runs as root (the local cloud needs a network namespace; the test image is built with mmdebstrap): as it is
# in a root shell, otherwise it runs itself again with sudo. It checks in seconds what would stop it later
# (root, Debian or Ubuntu, free disk, the NixOS binary cache), then installs what is missing system-wide and
# says what and where: Debian packages (Nix, OpenSSH, the local cloud's services), Node.js 22 in /usr/local.
# The trial's own files are git-ignored: the `try` stack's settings (Pulumi.try.yaml, a copy of the dev
# stack's example) and .nixos-cloud-image/ (the stack's file backend, its generated passphrase, the cloud).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work="$repo/.nixos-cloud-image"
cloud_state="$work/localcloud"
cache=${NCI_CACHE:-$HOME/.cache/nixos-cloud-image}
STACK=try
NS=nixos-cloud-image
# What a new login shell of Debian or Ubuntu finds: the Node.js installed here must be found on it.
SYSTEM_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
started=$SECONDS

say() { printf '\n==> %s\n' "$*" >&2; }
note() { printf '    %s\n' "$*" >&2; }
die() { printf 'try: %s\n' "$*" >&2; exit 1; }

mode=up fixture=0
for arg in "$@"; do
  case $arg in
    --fixture) fixture=1 ;;
    --remove) mode=remove ;;
    -h | --help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $arg (expected --fixture, --remove or --help)" ;;
  esac
done

# --- 0. what could stop it later, told in the first seconds -------------------------------------------
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || die "run it as root: the local cloud needs a network namespace of its own (and sudo is not installed)"
  note "not root: running again with sudo (the local cloud needs a network namespace of its own)"
  exec sudo -- "$repo/scripts/try.sh" "$@"
fi
os=$( (. /etc/os-release && echo "${PRETTY_NAME:-$ID}") 2>/dev/null || echo "an unknown system")
family=$( (. /etc/os-release && echo " ${ID:-} ${ID_LIKE:-} ") 2>/dev/null || true)
[[ ($family == *" debian "* || $family == *" ubuntu "*) ]] && command -v apt-get >/dev/null ||
  die "this needs Debian or Ubuntu (apt-get); this is $os. README.md lists the parts to install by hand"
cd "$repo"

# The Node.js that a new shell finds goes first on PATH, for this script and everything it starts (pulumi, and
# the Commands that run bin/*.js with `node`), so the trial runs on what the person will have afterwards.
system_node_first() {
  local node
  node=$(env PATH="$SYSTEM_PATH" sh -c 'command -v node') && export PATH="$(dirname "$node"):$PATH"
}
# The engine tier's build of the Pulumi CLI and plugins, where no pulumi is on PATH.
pulumi_from_cache() {
  if ! command -v pulumi >/dev/null && ls "${NCI_TOOLS_CACHE:-$cache/tools}"/*/.done >/dev/null 2>&1; then
    eval "$(scripts/pulumi-tools.sh env)"
  fi
}
# The trial's stacks live in the project: a file backend and a passphrase nobody has to type.
stack_env() {
  mkdir -p "$work/state"
  if [[ ! -s $work/passphrase ]]; then
    (umask 077 && head -c 32 /dev/urandom | base64 >"$work/passphrase")
    note "generated the stack's passphrase in .nixos-cloud-image/passphrase (mode 0600)"
  fi
  export PULUMI_BACKEND_URL="file://$work/state" PULUMI_CONFIG_PASSPHRASE_FILE="$work/passphrase"
  export PULUMI_SKIP_UPDATE_CHECK=1
}
# Every client of the local cloud (pulumi, the verifier, ssh) runs inside its network namespace.
in_cloud() { "$repo/scripts/localcloud/exec.sh" "$cloud_state" env OS_CLIENT_CONFIG_FILE="$cloud_state/clouds.yaml" "$@"; }

if [[ $mode == remove ]]; then
  if [[ ! -e $work && ! -e Pulumi.$STACK.yaml ]]; then
    say "nothing to remove: no trial was started in this checkout (there is no .nixos-cloud-image/)"
    exit 0
  fi
  system_node_first
  # The stacks' Commands run bin/*.js with this node when they are destroyed.
  command -v node >/dev/null || die "needs Node >= 22.12; found none on PATH; run scripts/try.sh or install Node 22"
  node bin/node-check.mjs
  pulumi_from_cache
  if [[ -d $work/state ]]; then
    command -v pulumi >/dev/null || die "no pulumi on PATH (nor a build of scripts/pulumi-tools.sh), so the trial's stack cannot be destroyed"
    stack_env
    # Every stack of the trial's backend, also a `dev` stack that an earlier try.sh made.
    stacks=$(pulumi stack ls --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const x of JSON.parse(s||"[]")) console.log(x.name)})')
    if [[ -n $stacks && -e $cloud_state/netns ]]; then
      "$repo/scripts/localcloud/start.sh" "$cloud_state" | tail -1 >/dev/null
    fi
    for stack in $stacks; do
      if [[ -e $cloud_state/netns ]]; then
        say "pulumi destroy -s $stack"
        in_cloud pulumi destroy -s "$stack" --yes --skip-preview ||
          die "pulumi destroy -s $stack failed (above); the stack and the local cloud are left as they are: run scripts/try.sh --remove again"
      fi
      # --preserve-config: Pulumi would delete Pulumi.<stack>.yaml, which for `dev` is the tracked example.
      pulumi stack rm -s "$stack" --yes --force --preserve-config >/dev/null
    done
  fi
  if [[ -e $cloud_state ]]; then
    say "stopping the local cloud"
    "$repo/scripts/localcloud/stop.sh" --purge "$cloud_state"
  fi
  rm -rf "$work" "Pulumi.$STACK.yaml"
  say "removed: the $STACK stack (Pulumi.$STACK.yaml), its state and passphrase, and the local cloud (.nixos-cloud-image/)"
  note "still installed, for other uses: the Debian packages, Nix, Node.js 22 (/usr/local/lib/nodejs-22), node_modules"
  exit 0
fi

# Whether URL answers within 5 s: with curl where there is one, else a TCP connection (a fresh machine may
# have no curl yet, and this check comes before anything is installed).
reachable() {
  if command -v curl >/dev/null; then
    curl -fsS --max-time 5 -o /dev/null "$1" 2>/dev/null
    return
  fi
  local scheme=${1%%://*} hostport=${1#*://}
  hostport=${hostport%%/*}
  local host=${hostport%:*} port=${hostport##*:}
  [[ $hostport == *:* ]] || port=$([[ $scheme == https ]] && echo 443 || echo 80)
  timeout 5 bash -c ": <>/dev/tcp/$host/$port" 2>/dev/null
}
if ((fixture)); then
  cache_said="not needed (--fixture)"
else
  probe=${NCI_NIXPKGS_PROBE:-https://cache.nixos.org/nix-cache-info}
  reachable "$probe" ||
    die "the NixOS binary cache ($probe) cannot be reached from this machine, so a real NixOS image cannot be built here: run \`scripts/try.sh --fixture\` to try the whole pipeline with a small Debian test image instead."
  cache_said="reachable"
fi
# After the cache: where it cannot be reached, --fixture is the way on, and it needs less room.
need_gib=$((fixture ? 6 : 15))
for dir in / "$repo"; do
  free=$(df -Pk "$dir" | awk 'NR == 2 { print int($4 / 1048576) }')
  ((free >= need_gib)) ||
    die "only $free GiB free on the file system of $dir; the trial needs about $need_gib GiB (packages, the Nix store, the image and its copies in the local cloud)"
done

# nova.conf.in sets virt_type = qemu: the local cloud's guests never use KVM, so its absence costs nothing.
kvm=$([[ -e /dev/kvm ]] && echo "/dev/kvm is there but not used" || echo "no /dev/kvm, none needed")
say "checked in $((SECONDS - started)) s: root; $os; $free GiB free (about $need_gib needed); NixOS binary cache $cache_said; guests run under QEMU's TCG emulation ($kvm), so the test boot takes a few minutes"

# --- 1. what the machine needs ------------------------------------------------------------------------
packages() { grep -hv '^#' "$@"; }
want=(nix-bin openssh-client openssh-server git ca-certificates curl python3 $(packages scripts/localcloud/packages.txt scripts/localcloud/packages-compute.txt))
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${#missing[@]} Debian packages: Nix (nix-bin), OpenSSH (the verifier's client; the server that \`npm test\`'s verifier suites run) and the local cloud's services (Keystone, Glance, Nova, Neutron, MariaDB, RabbitMQ, libvirt/QEMU, mmdebstrap for the test image)"
  note "${missing[*]}"
  [[ " ${missing[*]} " != *" openssh-server "* ]] ||
    note "openssh-server: the distribution starts its sshd service; \`systemctl disable --now ssh\` if this machine should not serve SSH"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

say "Nix: single-user, for root (scripts/setup-nix.sh)"
scripts/setup-nix.sh | sed 's/^/    /' >&2

# Node.js 22 where a new shell finds it (not only in this script): the README's `npm test` and a later
# `try.sh --remove` run in such a shell.
if ! env PATH="$SYSTEM_PATH" sh -c 'node "$1" && command -v npm' _ bin/node-check.mjs >/dev/null 2>&1; then
  found=$(env PATH="$SYSTEM_PATH" sh -c 'command -v node && node --version' 2>/dev/null | tr '\n' ' ') || true
  found=${found% }
  if [[ -z $found ]]; then
    why="there is no Node.js on the default PATH"
  elif env PATH="$SYSTEM_PATH" sh -c 'node "$1"' _ bin/node-check.mjs >/dev/null 2>&1; then
    why="the default PATH has Node.js ($found) but no npm"
  else
    why="the Node.js on the default PATH (${found:-none}) is older than the 22.12 that the Pulumi SDK needs"
  fi
  say "Node.js 22 and npm, system-wide (scripts/install-node.sh): $why"
  note "into /usr/local/lib/nodejs-22, with node, npm and npx linked in /usr/local/bin, ahead of /usr/bin; the distribution's Node.js stays installed"
  scripts/install-node.sh >/dev/null
fi
system_node_first
if [[ ! -d node_modules || package-lock.json -nt node_modules ]]; then
  say "npm ci: the project's dependencies (Pulumi SDKs, tsx, ...)"
  npm ci --no-audit --no-fund --loglevel=error
fi

pulumi_from_cache
if command -v pulumi >/dev/null; then
  say "Pulumi CLI: $(pulumi version) from $(command -v pulumi), used as it is"
elif [[ -d ${NCI_UPSTREAM_DIR:-$repo/../shared/upstream} ]]; then
  # A machine without GitHub access but with the upstream sources: the engine tier's build of the tools.
  say "Pulumi CLI and plugins: built from Go modules (scripts/pulumi-tools.sh, a few minutes once), since no pulumi is on PATH"
  scripts/pulumi-tools.sh build
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
  source_setting=
fi

# --- 3. the local cloud and the try stack ----------------------------------------------------------------
say "the local cloud (Keystone, Glance, Placement, Nova, Neutron) in its own network namespace"
mkdir -p "$work"
"$repo/scripts/localcloud/start.sh" --compute "$cloud_state" | tail -1 >/dev/null

stack_env
# The trial's settings are its own, so no tracked file changes: the dev stack's file stays the example to copy.
if [[ ! -e Pulumi.$STACK.yaml ]]; then
  cp Pulumi.dev.yaml "Pulumi.$STACK.yaml"
  note "stack $STACK: its settings in Pulumi.$STACK.yaml (git-ignored), a copy of Pulumi.dev.yaml"
fi
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

  The tests, in any shell:  npm test
  Remove all of it again (pulumi destroy, then stop the local cloud):  scripts/try.sh --remove
EOF
