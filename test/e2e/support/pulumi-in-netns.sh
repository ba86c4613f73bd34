#!/usr/bin/env bash
# `pulumi "$@"` inside the network namespace $NCI_NETNS, for the Automation API (see netnsPulumi.ts).
#
# The Automation API takes the engine's events on a gRPC server it listens for on 127.0.0.1 of the machine
# (`--event-log tcp://127.0.0.1:PORT`), and inside the namespace 127.0.0.1 is another host: pulumi would send
# its events nowhere, and every preview would seem to plan nothing. So the same port inside is bridged to the
# one outside through a Unix socket (the file system is shared by both namespaces), with socat.
#
# env: NCI_NETNS (the namespace), NCI_PULUMI (the real pulumi binary).
set -euo pipefail

port= prev=
for arg; do
  [[ $prev == --event-log && $arg == tcp://127.0.0.1:* ]] && port=${arg##*:}
  prev=$arg
done
if [[ -z $port ]]; then
  exec ip netns exec "$NCI_NETNS" "$NCI_PULUMI" "$@"
fi

sock=$(mktemp -u "${TMPDIR:-/tmp}/nci-events-XXXXXX.sock")
socat "UNIX-LISTEN:$sock,fork" "TCP:127.0.0.1:$port" &
outside=$!
ip netns exec "$NCI_NETNS" socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$sock" &
inside=$!
cleanup() {
  kill "$outside" "$inside" 2>/dev/null || true
  rm -f "$sock"
}
trap cleanup EXIT
# pulumi connects at once: wait (at most 5 s) until both ends listen.
for ((i = 0; i < 50; i++)); do
  [[ -S $sock ]] && ip netns exec "$NCI_NETNS" ss -Hltn "sport = :$port" | grep -q . && break
  sleep 0.1
done

ip netns exec "$NCI_NETNS" "$NCI_PULUMI" "$@" &
pulumi=$!
# The Automation API cancels an operation with a signal to this process: pass it on to pulumi.
trap 'kill -INT "$pulumi"' INT
trap 'kill -TERM "$pulumi"' TERM
status=0
while :; do
  wait "$pulumi" && status=0 || status=$?
  # wait returns early (above 128) when a trapped signal arrives; pulumi may still run.
  kill -0 "$pulumi" 2>/dev/null || break
done
exit "$status"
