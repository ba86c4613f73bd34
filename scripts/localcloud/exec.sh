#!/usr/bin/env bash
# Run a client command inside a compute cloud's network namespace (start.sh --compute), where its APIs
# and guests are reachable: openstack, pulumi, nixos-image-verify, ssh, ...
#
# usage: scripts/localcloud/exec.sh STATE_DIR CMD [ARGS...]
#   The command keeps the caller's environment, user and working directory; only the network differs.
#   Example: scripts/localcloud/exec.sh "$S" env OS_CLIENT_CONFIG_FILE="$S/clouds.yaml" openstack --os-cloud local server list
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
(($# >= 2)) || die "usage: $0 STATE_DIR CMD [ARGS...]"
STATE=$1
shift
[[ -f $STATE/netns ]] || die "$STATE/netns missing: $STATE is not a compute cloud (start.sh --compute)"
NETNS=$(cat "$STATE/netns")
[[ -e /run/netns/$NETNS ]] || die "network namespace $NETNS does not exist: is the cloud running? (start.sh --compute $STATE)"
exec ip netns exec "$NETNS" "$@"
