#!/usr/bin/env bash
# The hosts a team builds with, for the team-scale tests: in a network namespace of the run's own, reached
# from this machine through a veth pair (10.98.0.1 here, 10.98.0.2 there),
#   - a remote Nix builder: an sshd whose sessions see a Nix store of their own (a mount namespace binds an
#     empty directory over /nix), so what it builds is in its store and nowhere else until Nix copies it back;
#   - a binary cache: a directory that `nix copy` fills and signs, served by a static HTTP server.
#
#   team-hosts.sh start DIR       prints the facts the tests need as KEY=VALUE lines
#   team-hosts.sh stop DIR        stops both servers and removes the namespace (again: a no-op)
#   team-hosts.sh down DIR builder|cache / up DIR builder|cache   takes one host off the network and back
set -euo pipefail

cmd=${1:?usage: team-hosts.sh start|stop|up|down DIR [builder|cache]}
dir=${2:?usage: team-hosts.sh $cmd DIR}
ADDR=10.98.0.2 HOST_ADDR=10.98.0.1 CACHE_PORT=8080

# Waits at most 5 s until PORT listens in the namespace; else shows WHAT's LOG and fails.
await_listening() {
  local port=$1 what=$2 log=$3 i
  for ((i = 0; i < 50; i++)); do
    ip netns exec "$(cat "$dir/netns")" ss -Hltn "sport = :$port" | grep -q . && return
    sleep 0.1
  done
  echo "team-hosts.sh: $what does not listen on port $port; its log:" >&2
  cat "$log" >&2
  exit 1
}

builder_start() {
  # tmpfs over /run gives sshd its privilege-separation directory without touching the machine's.
  ip netns exec "$(cat "$dir/netns")" unshare --mount --propagation private sh -c \
    'mount -t tmpfs tmpfs /run && mkdir /run/sshd && mount --bind "$1/builder-nix" /nix &&
     exec /usr/sbin/sshd -D -e -f "$1/ssh/sshd_config"' sh "$dir" >>"$dir/sshd.log" 2>&1 &
  echo $! >"$dir/builder.pid"
  await_listening 22 "the builder's sshd" "$dir/sshd.log"
}

cache_start() {
  ip netns exec "$(cat "$dir/netns")" python3 -m http.server "$CACHE_PORT" --bind "$ADDR" \
    --directory "$dir/cache" >"$dir/cache.log" 2>&1 &
  echo $! >"$dir/cache.pid"
  await_listening "$CACHE_PORT" "the cache server" "$dir/cache.log"
}

stop_pid() {
  [[ -f $1 ]] || return 0
  kill "$(cat "$1")" 2>/dev/null || true
  rm -f "$1"
}

case $cmd in
start)
  mkdir -p "$dir/builder-nix" "$dir/cache" "$dir/ssh"
  # Names of the run's own (veth names have at most 15 characters).
  id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  ns="nci-team-$id"
  echo "$ns" >"$dir/netns"
  echo "nct$id" >"$dir/veth"
  ip netns add "$ns"
  ip link add "nct$id" type veth peer name "nct${id}b"
  ip link set "nct${id}b" netns "$ns"
  ip addr add "$HOST_ADDR/24" dev "nct$id"
  ip link set "nct$id" up
  ip netns exec "$ns" ip addr add "$ADDR/24" dev "nct${id}b"
  ip netns exec "$ns" ip link set "nct${id}b" up
  ip netns exec "$ns" ip link set lo up

  ssh-keygen -q -t ed25519 -N "" -C builder-host -f "$dir/ssh/host_key"
  ssh-keygen -q -t ed25519 -N "" -C deployer -f "$dir/ssh/deployer_key"
  cp "$dir/ssh/deployer_key.pub" "$dir/ssh/authorized_keys"
  cat >"$dir/ssh/sshd_config" <<EOF
ListenAddress $ADDR:22
HostKey $dir/ssh/host_key
AuthorizedKeysFile $dir/ssh/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile none
EOF
  builder_start
  nix-store --generate-binary-cache-key nci-team-cache-1 "$dir/cache.sk" "$dir/cache.pk"
  # An empty cache is still a cache: Nix asks for nix-cache-info first.
  printf 'StoreDir: /nix/store\nWantMassQuery: 1\nPriority: 40\n' >"$dir/cache/nix-cache-info"
  cache_start
  # Nix's builder line: URI, system, key, max jobs, speed, features, mandatory features, host key (base64).
  echo "BUILDERS=ssh://root@$ADDR x86_64-linux $dir/ssh/deployer_key 1 1 - - $(base64 -w0 "$dir/ssh/host_key.pub")"
  echo "CACHE_URL=http://$ADDR:$CACHE_PORT"
  echo "CACHE_PUBLIC_KEY=$(cat "$dir/cache.pk")"
  echo "CACHE_UPLOAD=file://$dir/cache?secret-key=$dir/cache.sk&compression=zstd"
  echo "BUILDER_STORE=$dir/builder-nix/store"
  ;;
down) stop_pid "$dir/${3:?which host: builder or cache}.pid" ;;
up) "${3:?which host: builder or cache}_start" ;;
stop)
  [[ -f $dir/netns ]] || exit 0
  stop_pid "$dir/cache.pid"
  stop_pid "$dir/builder.pid"
  ip link del "$(cat "$dir/veth")" 2>/dev/null || true
  ip netns del "$(cat "$dir/netns")" 2>/dev/null || true
  rm -f "$dir/netns"
  ;;
*)
  echo "team-hosts.sh: unknown command $cmd (start, stop, up, down)" >&2
  exit 2
  ;;
esac
