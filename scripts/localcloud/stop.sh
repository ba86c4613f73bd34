#!/usr/bin/env bash
# Stop the local cloud started by start.sh: only the PIDs recorded in STATE_DIR/run, and only
# after /proc/PID/cmdline shows they belong to this state dir. Waits until they are gone.
# A compute cloud (start.sh --compute): then also every process left in its network namespace or naming
# its state dir (QEMU guests, dnsmasq, haproxy, privsep helpers), and the namespace itself, which takes
# the bridge, veths, taps and Neutron's iptables chains with it.
#
# usage: scripts/localcloud/stop.sh [--purge] [STATE_DIR]
#   STATE_DIR defaults to ${LOCALCLOUD_STATE:-/tmp/nixos-cloud-image-localcloud}.
#   --purge also deletes STATE_DIR (images, databases, passwords).
# env: LOCALCLOUD_STOP_TIMEOUT (20) - seconds per daemon before SIGKILL.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

purge=0 STATE=
for arg; do
  case $arg in
    --purge) purge=1 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    -*) die "unknown option $arg" ;;
    *) [[ -z $STATE ]] || die "more than one STATE_DIR given"; STATE=$arg ;;
  esac
done
STATE=${STATE:-${LOCALCLOUD_STATE:-/tmp/nixos-cloud-image-localcloud}}

if [[ ! -d $STATE ]]; then
  log "no state dir $STATE: nothing to stop"
  exit 0
fi
STATE=$(cd "$STATE" && pwd)
if ! is_state_dir; then
  [[ -z $(ls -A "$STATE") ]] || die "$STATE is not a localcloud state dir; not touching it"
  ((purge)) && rmdir "$STATE"
  log "empty dir $STATE: nothing to stop"
  exit 0
fi
lock_state

if [[ -e $STATE/netns ]]; then
  NETNS=$(cat "$STATE/netns")
  # shellcheck source=compute.sh
  . "$HERE/compute.sh"
  # The cloud's networks and routers, while MariaDB still runs: their namespaces are qdhcp-<id> and
  # qrouter-<id> (see below).
  networks=$(mysql_ -N -e 'SELECT id FROM neutron.networks' 2>/dev/null) || networks=
  routers=$(mysql_ -N -e 'SELECT id FROM neutron.routers' 2>/dev/null) || routers=
  for ((i = ${#COMPUTE_DAEMONS[@]} - 1; i >= 0; i--)); do stop_daemon "${COMPUTE_DAEMONS[i]}"; done
fi
# The Glances first: they are the ones that talk to Keystone.
stop_glances
stop_daemon keystone
if [[ -n ${NETNS:-} ]]; then
  sweep_leftovers "$NETNS"
  if [[ -e /run/netns/$NETNS ]]; then
    ip netns delete "$NETNS"
    log "deleted network namespace $NETNS"
  fi
  # Neutron's DHCP and router namespaces (qdhcp-<network id>, qrouter-<router id>) normally live only in
  # the daemons' mount namespace and vanish with it; where /run/netns is a shared mount they show up here
  # too: delete those.
  for ns in $(printf 'qdhcp-%s ' $networks $(cd "$STATE/neutron/dhcp" 2>/dev/null && ls)) \
    $(printf 'qrouter-%s ' $routers); do
    if [[ -e /run/netns/$ns ]]; then
      ip netns delete "$ns"
      log "deleted network namespace $ns"
    fi
  done
fi
if ((purge)); then
  rm -rf "$STATE"
  log "stopped; purged $STATE"
else
  log "stopped; state kept in $STATE"
fi
