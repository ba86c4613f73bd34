#!/usr/bin/env bash
# Start a real local OpenStack on 127.0.0.1: Keystone (identity v3, under uwsgi) + Glance (image v2,
# file store) in region RegionOne, and in each further region (RegionTwo, RegionThree, ...) a Glance of its
# own on the same Keystone; sqlite, no systemd, all state in STATE_DIR. With --compute, also Nova + Placement
# + Neutron (+ MariaDB, RabbitMQ, libvirt/QEMU), all of it inside a network namespace of its own.
#
# usage: scripts/localcloud/start.sh [--compute] [STATE_DIR]
#   STATE_DIR defaults to ${LOCALCLOUD_STATE:-/tmp/nixos-cloud-image-localcloud}.
#   Fresh state dir -> full setup; existing state -> (re)start whichever daemon is not running.
#   The last line of stdout is the path of STATE_DIR/clouds.yaml (clouds `local`, `local-demo`);
#   everything else goes to stderr:  export OS_CLIENT_CONFIG_FILE=$(start.sh | tail -1)
#   --compute: the namespace's name is in STATE_DIR/netns; clients run in it (exec.sh STATE_DIR CMD...).
#   A state dir set up with --compute stays a compute cloud (the option may then be left out).
#   Other regions: openstack --os-region-name RegionTwo (or OS_REGION_NAME); Pulumi: the provider's region.
# env: KEYSTONE_PORT (5000), GLANCE_PORT (9292), LOCALCLOUD_REGIONS (2: RegionOne, RegionTwo; 1 to 5),
#      GLANCE2_PORT .. GLANCE5_PORT (GLANCE_PORT+1 .., for RegionTwo .. RegionFive) - fixed at first setup;
#      LOCALCLOUD_TIMEOUT (90) - seconds to wait for Keystone and Glance to answer;
#      COMPUTE_TIMEOUT (600) - seconds for the compute services; COMPUTE_FLAVOR_DISK_GB (4).
# Needs the Debian packages in packages.txt (and packages-compute.txt for --compute).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3   # Debian's: a pyenv python3 on PATH cannot import Debian's modules
# shellcheck source=lib.sh
. "$HERE/lib.sh"
REGION=${REGION_NAMES[0]}   # glance's, the default one; the others' Glances: see lib.sh

compute=0 STATE=
for arg; do
  case $arg in
    --compute) compute=1 ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    -*) die "unknown option $arg" ;;
    *) [[ -z $STATE ]] || die "more than one STATE_DIR given"; STATE=$arg ;;
  esac
done
STATE=${STATE:-${LOCALCLOUD_STATE:-/tmp/nixos-cloud-image-localcloud}}
exec 3>&1 1>&2   # stdout is only for the final clouds.yaml line (fd 3); daemons never get fd 3
umask 077        # the state dir holds passwords and keys
export LC_ALL=C   # EPOCHREALTIME uses the locale decimal point
T0=$EPOCHREALTIME
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

for f in /usr/bin/keystone-manage /usr/bin/keystone-wsgi-public /usr/bin/uwsgi-core \
         /usr/lib/uwsgi/plugins/python3_plugin.so /usr/bin/curl "$PY"; do
  [[ -x $f || -f $f ]] || die "$f missing: apt-get install --no-install-recommends $(grep -v '^#' "$HERE/packages.txt" | tr '\n' ' ')"
done

mkdir -p "$STATE"
STATE=$(cd "$STATE" && pwd)
is_state_dir || [[ -z $(ls -A "$STATE") ]] ||
  die "$STATE is not empty and not a localcloud state dir; give an empty or new directory"
[[ -e $STATE/netns ]] && compute=1
if ((compute)) && [[ -z ${LOCALCLOUD_NETNS:-} || $LOCALCLOUD_NETNS != "$(cat "$STATE/netns" 2>/dev/null)" ]]; then
  # Re-run this script inside the cloud's own network namespace, so that every daemon inherits it.
  # `ip netns exec` (not nsenter): it also remounts /sys for the namespace, where the linuxbridge
  # agent and os-vif look for bridges and taps.
  for f in /usr/lib/python3/dist-packages/nova /usr/lib/python3/dist-packages/neutron /usr/sbin/libvirtd \
           /usr/sbin/mariadbd /usr/lib/rabbitmq/bin/rabbitmq-server /usr/bin/placement-api /usr/sbin/dnsmasq \
           /usr/sbin/haproxy /usr/sbin/iptables /usr/bin/qemu-system-x86_64 /usr/bin/genisoimage /usr/bin/sudo; do
    [[ -e $f ]] ||
      die "$f missing: apt-get install --no-install-recommends $(grep -hv '^#' "$HERE"/packages*.txt | tr '\n' ' ')"
  done
  exec 8>"$STATE/.localcloud-lock" # marks the dir as ours before the netns file goes in
  flock -w "${LOCALCLOUD_LOCK_TIMEOUT:-300}" 8 || die "another start.sh/stop.sh holds $STATE/.localcloud-lock"
  if [[ -e $STATE/.compute-complete ]]; then
    # All running: nothing to do. Some stopped: stop the rest and start all again, in a new namespace.
    # A daemon cannot be restarted alone: Neutron's DHCP namespaces exist only in the mount namespace
    # of the `ip netns exec` that started the others.
    # shellcheck source=compute.sh
    . "$HERE/compute.sh"
    n=$(sed -n 's/^LOCALCLOUD_REGIONS=//p' "$STATE/settings.env")   # none recorded: 2 (see below)
    mapfile -t glances < <(glance_names "${n:-2}")
    down=()
    for d in keystone "${glances[@]}" "${COMPUTE_DAEMONS[@]}"; do daemon_pid "$d" >/dev/null || down+=("$d"); done
    if ((${#down[@]} == 0)); then
      log "compute cloud already running in $STATE (namespace $(cat "$STATE/netns"))"
      echo "$STATE/clouds.yaml" >&3
      exit 0
    fi
    log "not running: ${down[*]}; restarting the whole compute cloud"
    exec 8>&-
    "$HERE/stop.sh" "$STATE"
    exec 8>"$STATE/.localcloud-lock"
    flock -w "${LOCALCLOUD_LOCK_TIMEOUT:-300}" 8 || die "another start.sh/stop.sh holds $STATE/.localcloud-lock"
  fi
  NETNS=$(cat "$STATE/netns" 2>/dev/null) ||
    NETNS=nci-$(printf '%s' "$STATE" | sha256sum | cut -c1-12)
  echo "$NETNS" >"$STATE/netns"
  [[ -e /run/netns/$NETNS ]] || { ip netns add "$NETNS" && log "created network namespace $NETNS"; }
  ip netns exec "$NETNS" ip link set lo up
  exec 8>&-
  # The caller's stdout (fd 3 here) goes back to the inner run, which prints the clouds.yaml line on it.
  exec ip netns exec "$NETNS" env LOCALCLOUD_NETNS="$NETNS" "$0" --compute "$STATE" 1>&3 3>&-
fi
NETNS=${LOCALCLOUD_NETNS:-}
lock_state

port_in_use() { (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Substitute @STATE@, @KEYSTONE_PORT@, @GLANCE_PORT@, @GLANCE_PASSWORD@, @GLANCE@ in template $1 -> $2.
render() {
  sed -e "s|@STATE@|$STATE|g" -e "s|@KEYSTONE_PORT@|$KEYSTONE_PORT|g" \
      -e "s|@GLANCE_PORT@|$GLANCE_PORT|g" -e "s|@GLANCE_PASSWORD@|$GLANCE_PASSWORD|g" \
      -e "s|@GLANCE@|${GLANCE:-}|g" "$HERE/$1" >"$2"
}
# One template for all Glances: NAME (glance, glance2, ...) names its config, DB, store, lock dir and log.
render_glance() {  # NAME PORT
  GLANCE=$1 GLANCE_PORT=$2 render glance-api.conf.in "$STATE/etc/$1-api.conf"
}

# Run a Python entry point (the console scripts glance-api / glance-manage live in the
# service packages, which are not installed).
glance_entry() { local mod=$1; shift; "$PY" -c "import sys; from $mod import main; sys.exit(main())" "$@"; }

set_wal() {  # DB...: sqlite WAL, so that readers do not block the writer ("database is locked")
  "$PY" -c 'import sqlite3, sys; [sqlite3.connect(f).execute("PRAGMA journal_mode=WAL") for f in sys.argv[1:]]' "$@"
}

new_password() { "$PY" -c 'import secrets; print(secrets.token_urlsafe(24))'; }

# --- settings: ports are baked into configs and the Keystone catalog at first setup ---
fresh=0
[[ -e $STATE/.setup-complete ]] || fresh=1
if ((fresh)); then
  KEYSTONE_PORT=${KEYSTONE_PORT:-5000}
  GLANCE_PORT=${GLANCE_PORT:-9292}
  LOCALCLOUD_REGIONS=${LOCALCLOUD_REGIONS:-2}
  [[ $LOCALCLOUD_REGIONS =~ ^[1-9]$ && $LOCALCLOUD_REGIONS -le ${#REGION_NAMES[@]} ]] ||
    die "LOCALCLOUD_REGIONS=$LOCALCLOUD_REGIONS: give 1 to ${#REGION_NAMES[@]}"
  [[ $GLANCE_PORT =~ ^[0-9]+$ ]] || die "GLANCE_PORT=$GLANCE_PORT is not a port number"
  for ((i = 2; i <= LOCALCLOUD_REGIONS; i++)); do
    v=GLANCE${i}_PORT
    printf -v "$v" %s "${!v:-$((GLANCE_PORT + i - 1))}"
  done
else
  # The environment may repeat the recorded settings, not change them.
  declare -A want=()
  for v in KEYSTONE_PORT GLANCE_PORT LOCALCLOUD_REGIONS GLANCE{2..9}_PORT; do
    [[ -z ${!v:-} ]] || want[$v]=${!v}
    unset "$v"
  done
  # shellcheck source=/dev/null
  . "$STATE/settings.env"
  # Set up before LOCALCLOUD_REGIONS: two regions. Before RegionTwo: neither its Glance nor its catalog entries.
  [[ -n ${LOCALCLOUD_REGIONS:-}${GLANCE2_PORT:-} ]] ||
    die "$STATE was set up without RegionTwo's Glance; stop.sh --purge it and start again"
  LOCALCLOUD_REGIONS=${LOCALCLOUD_REGIONS:-2}
  for v in "${!want[@]}"; do
    # ${!v:-...}: the port of a region this cloud does not have does not matter.
    [[ ${want[$v]} == "${!v:-${want[$v]}}" ]] ||
      die "$STATE was set up with $(paste -sd' ' "$STATE/settings.env"); use another state dir or stop.sh --purge it"
  done
fi
# The regions and their Glances (lib.sh), and every daemon's port.
REGIONS=("${REGION_NAMES[@]:0:LOCALCLOUD_REGIONS}")
mapfile -t GLANCES < <(glance_names "$LOCALCLOUD_REGIONS")
declare -A PORT=([keystone]=$KEYSTONE_PORT)
for g in "${GLANCES[@]}"; do v=${g^^}_PORT; PORT[$g]=${!v}; done

start_keystone() {
  # cd: the daemons must not pin the caller's working directory.
  (cd "$STATE" && exec setsid /usr/bin/uwsgi-core --ini "$STATE/etc/keystone-uwsgi.ini" \
    </dev/null >>"$STATE/log/keystone.log" 2>&1 3>&- 8>&-) &
  echo $! >"$STATE/run/keystone.pid"
}
start_glance() {  # NAME: glance (RegionOne), glance2 (RegionTwo), ...
  (cd "$STATE" && exec setsid "$PY" -c 'import sys; from glance.cmd.api import main; sys.exit(main())' \
    --config-file "$STATE/etc/$1-api.conf" \
    </dev/null >>"$STATE/log/$1-api.log" 2>&1 3>&- 8>&-) &
  echo $! >"$STATE/run/$1.pid"
}

# Start daemon NAME unless it is already running from this state dir.
ensure() {
  local name=$1 port=$2 pid
  if pid=$(daemon_pid "$name"); then log "$name already running (pid $pid)"; return; fi
  stop_daemon "$name"   # leftovers of a dead daemon (an orphaned uwsgi worker), stale pidfile
  port_in_use "$port" && die "port $port is taken by another process"
  if [[ $name == glance* ]]; then start_glance "$name"; else "start_$name"; fi
  log "started $name (pid $(cat "$STATE/run/$name.pid"), 127.0.0.1:$port)"
}

# Poll URL until it answers 2xx; fail early if daemon NAME died, or at the deadline.
wait_ready() {
  local name=$1 url=$2 logf=$3
  while ! curl -fsS -m 2 -o /dev/null "$url" 2>/dev/null; do
    # Only "is the recorded PID still running": right after the fork its command line is
    # still bash's, so the stricter daemon_pid match could fail for a healthy start.
    if ! proc_running "$(cat "$STATE/run/$name.pid")"; then
      log "$name exited during startup; last lines of $logf:"; tail -n 30 "$logf" >&2 || true
      die "$name did not start"
    fi
    if ((SECONDS >= DEADLINE)); then
      log "$name not answering $url after ${LOCALCLOUD_TIMEOUT:-90}s; last lines of $logf:"
      tail -n 30 "$logf" >&2 || true
      die "$name not ready"
    fi
    sleep 0.2
  done
  log "$name ready: $url"
}
ensure_glances() { local g; for g in "${GLANCES[@]}"; do ensure "$g" "${PORT[$g]}"; done; }
wait_glances() {
  local g
  for g in "${GLANCES[@]}"; do wait_ready "$g" "http://127.0.0.1:${PORT[$g]}/healthcheck" "$STATE/log/$g-api.log"; done
}

# Preflight, before any setup job runs: a port held by someone else fails fast.
for name in keystone "${GLANCES[@]}"; do
  port=${PORT[$name]}
  [[ $port =~ ^[0-9]+$ ]] || die "${name^^}_PORT=$port is not a port number"
  daemon_pid "$name" >/dev/null || ! port_in_use "$port" ||
    die "port $port is taken by another process; free it, or use a fresh state dir with ${name^^}_PORT set"
done

if ((fresh)); then
  log "setting up a new local cloud in $STATE"
  # On failure, let the setup jobs finish (seconds) and stop any daemon started, so a
  # retry does not race them while it wipes the half-made state.
  job_glance='' job_keystone=''
  on_setup_exit() {
    local rc=$?
    ((rc)) || return 0
    for j in $job_glance $job_keystone; do wait "$j" 2>/dev/null || true; done
    stop_glances; stop_daemon keystone
  }
  trap on_setup_exit EXIT
  # A setup that died half way left no marker: stop what it started, redo from scratch.
  stop_daemon keystone; stop_glances
  rm -rf "${STATE:?}"/{etc,keys,db,glance,glance[2-9],lock,run,log,secrets.env,settings.env,clouds.yaml}
  mkdir -p "$STATE"/{etc,keys,db,run,log}
  for g in "${GLANCES[@]}"; do mkdir -p "$STATE/$g"/{images,staging,tasks} "$STATE/lock/$g"; done

  {
    printf 'KEYSTONE_PORT=%s\nGLANCE_PORT=%s\nLOCALCLOUD_REGIONS=%s\n' "$KEYSTONE_PORT" "$GLANCE_PORT" "$LOCALCLOUD_REGIONS"
    for g in "${GLANCES[@]:1}"; do printf '%s_PORT=%s\n' "${g^^}" "${PORT[$g]}"; done
  } >"$STATE/settings.env"
  {
    printf 'ADMIN_PASSWORD=%s\n' "$(new_password)"
    printf 'GLANCE_PASSWORD=%s\n' "$(new_password)"
    printf 'DEMO_PASSWORD=%s\n' "$(new_password)"
  } >"$STATE/secrets.env"
  chmod 600 "$STATE/secrets.env"
  # shellcheck source=/dev/null
  . "$STATE/secrets.env"

  render keystone.conf.in "$STATE/etc/keystone.conf"
  render keystone-uwsgi.ini.in "$STATE/etc/keystone-uwsgi.ini"
  for g in "${GLANCES[@]}"; do render_glance "$g" "${PORT[$g]}"; done
  cp "$HERE/glance-api-paste.ini" "$STATE/etc/glance-api-paste.ini"
  cp "$HERE/glance-policy.yaml" "$STATE/etc/glance-policy.yaml"

  # Glance's schema does not need Keystone: migrate it while Keystone is set up. A migrated DB holds
  # the schema and alembic's version only, so glance2.. get a copy of it, not a db_sync (~2 s CPU) each.
  dbs=()
  for g in "${GLANCES[@]}"; do dbs+=("$STATE/db/$g.sqlite"); done
  (glance_entry glance.cmd.manage --config-file "$STATE/etc/glance-api.conf" db_sync &&
     for db in "${dbs[@]:1}"; do cp "${dbs[0]}" "$db" || exit; done && set_wal "${dbs[@]}") \
    >"$STATE/log/setup-glance.log" 2>&1 3>&- 8>&- &
  job_glance=$!
  # db_sync, fernet_setup, credential_setup, bootstrap with one Keystone import (see file).
  (OS_BOOTSTRAP_PASSWORD=$ADMIN_PASSWORD "$PY" "$HERE/keystone_setup.py" \
     "$STATE/etc/keystone.conf" "http://127.0.0.1:$KEYSTONE_PORT/v3/" "$REGION" &&
     set_wal "$STATE/db/keystone.sqlite") >"$STATE/log/setup-keystone.log" 2>&1 3>&- 8>&- &
  job_keystone=$!

  join() {  # join JOB NAME: wait for a setup job, fail with its log tail
    wait "$1" && { log "setup $2 done ($(elapsed)s)"; return; }
    tail -n 30 "$STATE/log/setup-$2.log" >&2
    die "setup step '$2' failed (log: $STATE/log/setup-$2.log)"
  }
  # Keystone's app loads (~2 s) without touching its database, so uwsgi starts now and
  # imports while the setup jobs run; only identity.py below needs the bootstrap done.
  ensure keystone "$KEYSTONE_PORT"
  join "$job_glance" glance
  ensure_glances   # they answer /healthcheck without Keystone, and import side by side
  join "$job_keystone" keystone

  DEADLINE=$((SECONDS + ${LOCALCLOUD_TIMEOUT:-90}))
  wait_ready keystone "http://127.0.0.1:$KEYSTONE_PORT/v3" "$STATE/log/keystone.log"
  extra_glances=
  for ((i = 1; i < LOCALCLOUD_REGIONS; i++)); do
    extra_glances+=${extra_glances:+,}${REGIONS[i]}=http://127.0.0.1:${PORT[${GLANCES[i]}]}
  done
  KEYSTONE_URL=http://127.0.0.1:$KEYSTONE_PORT/v3 GLANCE_URL=http://127.0.0.1:$GLANCE_PORT \
  REGION=$REGION EXTRA_GLANCES=$extra_glances \
  ADMIN_PASSWORD=$ADMIN_PASSWORD GLANCE_PASSWORD=$GLANCE_PASSWORD DEMO_PASSWORD=$DEMO_PASSWORD "$PY" "$HERE/identity.py" 3>&- 8>&- ||
    { tail -n 30 "$STATE/log/keystone.log" >&2; die "identity data setup (identity.py) failed"; }
  log "identity data done ($(elapsed)s)"
  wait_glances
  trap - EXIT
else
  log "restarting the local cloud in $STATE"
  # shellcheck source=/dev/null
  . "$STATE/secrets.env"
  ensure keystone "$KEYSTONE_PORT"
  ensure_glances
  DEADLINE=$((SECONDS + ${LOCALCLOUD_TIMEOUT:-90}))
  wait_ready keystone "http://127.0.0.1:$KEYSTONE_PORT/v3" "$STATE/log/keystone.log"
  wait_glances
fi

# clouds.yaml is rewritten on every start (cheap; repairs a deleted one).
printf -v regions_list '%s, ' "${REGIONS[@]}"
cloud() {  # name user project password
  cat <<YAML
  $1:
    auth:
      auth_url: http://127.0.0.1:$KEYSTONE_PORT/v3
      username: $2
      password: "$4"
      project_name: $3
      user_domain_name: Default
      project_domain_name: Default
    region_name: $REGION
    regions: [${regions_list%, }]
    identity_api_version: 3
    image_api_version: 2
    interface: public
YAML
}
{
  echo "# Written by scripts/localcloud/start.sh for the local cloud in $STATE."
  echo "# local = admin (can make images public); local-demo = ordinary member of project demo."
  echo "# Both default to $REGION; --os-region-name / OS_REGION_NAME picks another region's Glance."
  echo "# openstacksdk accepts only the regions listed (the first is its default); Pulumi reads region_name."
  echo "clouds:"
  cloud local admin admin "$ADMIN_PASSWORD"
  cloud local-demo demo demo "$DEMO_PASSWORD"
} >"$STATE/clouds.yaml.tmp"
mv "$STATE/clouds.yaml.tmp" "$STATE/clouds.yaml"
touch "$STATE/.setup-complete"

if ((compute)); then
  # shellcheck source=compute.sh
  . "$HERE/compute.sh"
  compute_start
  log "compute up in $(elapsed)s: nova http://127.0.0.1:$NOVA_PORT, neutron http://127.0.0.1:$NEUTRON_PORT, placement http://127.0.0.1:$PLACEMENT_PORT (namespace $NETNS)"
fi

up="keystone http://127.0.0.1:$KEYSTONE_PORT/v3"
for i in "${!GLANCES[@]}"; do up+=", ${GLANCES[i]} http://127.0.0.1:${PORT[${GLANCES[i]}]} (${REGIONS[i]})"; done
log "up in $(elapsed)s: $up"
echo "$STATE/clouds.yaml" >&3
