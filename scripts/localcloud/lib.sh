# shellcheck shell=bash
# shellcheck disable=SC2153  # STATE (absolute state dir) is set by the sourcing script
# Shared by start.sh and stop.sh (sourced, not run): logging and process bookkeeping.
# A process counts as ours only if it is in the session of a PID recorded in STATE/run and
# its command line names this state dir, so a recycled PID is never signalled.

log() { printf 'localcloud: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# A state dir is ours if it holds our lock file (created first thing in every state dir).
# start.sh refuses a non-empty dir without it, and stop.sh --purge deletes only ours, so a
# mistyped STATE_DIR (say $HOME) is never wiped.
is_state_dir() { [[ -e $STATE/.localcloud-lock ]]; }

# Serialise start.sh/stop.sh runs on one state dir (fd 8; daemons must not inherit it,
# or they would hold the lock for their whole life).
lock_state() {
  exec 8>"$STATE/.localcloud-lock"
  flock -w "${LOCALCLOUD_LOCK_TIMEOUT:-300}" 8 || die "another start.sh/stop.sh holds $STATE/.localcloud-lock"
}

# The regions, in catalog order. Region I has a Glance of its own, daemon glanceI on GLANCEI_PORT, except
# RegionOne's: glance on GLANCE_PORT. start.sh runs the first LOCALCLOUD_REGIONS of them (2 by default).
REGION_NAMES=(RegionOne RegionTwo RegionThree RegionFour RegionFive)
glance_names() {  # N: the Glance daemons of the first N regions, one a line
  local i
  echo glance
  for ((i = 2; i <= $1; i++)); do echo "glance$i"; done
}
stop_glances() {  # every Glance a state dir can have, the other regions' first (stop_daemon: see below)
  local i
  for ((i = ${#REGION_NAMES[@]}; i >= 2; i--)); do stop_daemon "glance$i"; done
  stop_daemon glance
}

# The daemons: name -> a string their command line contains (it includes $STATE, except epmd's, which is
# told apart by its recorded session alone).
daemon_pattern() {
  case $1 in
    keystone) printf '%s' "$STATE/etc/keystone-uwsgi.ini" ;;
    glance|glance[2-9]) printf '%s' "$STATE/etc/$1-api.conf" ;;   # RegionOne's, the other regions'
    epmd)     printf '%s' "epmd -port" ;;
    *)        printf '%s' "$STATE/" ;;   # compute mode: each names its config or data dir
  esac
}

# True if PID exists and is not a zombie/dead. kill -0 is not enough: PID 1 in this
# container reaps slowly, so an exited daemon lingers as Z for a while.
proc_running() {
  local stat state
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  state=${stat##*) }   # comm may hold spaces or ')': cut after the last ') '
  state=${state%% *}
  [[ $state != Z && $state != X && $state != x ]]
}

# True if PID is running and its command line contains PATTERN.
proc_matches() {
  local cmd
  proc_running "$1" || return 1
  cmd=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
  [[ $cmd == *"$2"* ]]
}

# Print the recorded PID of daemon NAME if it is alive and ours; fail otherwise. Ours: its command line,
# or that of a process in its session, matches (RabbitMQ's recorded PID is a shell script that runs the
# Erlang VM, and only the VM's command line names the state dir).
daemon_pid() {
  local pid pattern
  pid=$(cat "$STATE/run/$1.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  pattern=$(daemon_pattern "$1")
  proc_matches "$pid" "$pattern" || { proc_running "$pid" && [[ -n $(session_pids "$pid" "$pattern") ]]; } ||
    return 1
  printf '%s' "$pid"
}

# PIDs in session SID whose command line contains PATTERN. Each daemon is started with
# setsid, so its session id is its PID; uwsgi's worker stays in that session, even as an
# orphan after its master was killed.
session_pids() {
  local sid=$1 pattern=$2 f stat s pid
  for f in /proc/[0-9]*/stat; do
    read -r stat 2>/dev/null <"$f" || continue
    read -r _ _ _ s _ <<<"${stat##*) }"   # fields after comm: state ppid pgrp session
    [[ $s == "$sid" ]] || continue
    pid=${f#/proc/}; pid=${pid%/stat}
    proc_matches "$pid" "$pattern" && printf '%s\n' "$pid"
  done
}

# Stop daemon NAME: SIGTERM every process of its recorded session that is ours, wait until
# all are gone (deadline ${LOCALCLOUD_STOP_TIMEOUT:-20}s, then SIGKILL), remove the pidfile.
stop_daemon() {
  local name=$1 sid pattern pids=() left p deadline
  pattern=$(daemon_pattern "$name")
  sid=$(cat "$STATE/run/$name.pid" 2>/dev/null) || return 0
  [[ $sid =~ ^[0-9]+$ ]] && mapfile -t pids < <(session_pids "$sid" "$pattern")
  if ((${#pids[@]})); then
    log "stopping $name (pid ${pids[*]})"
    kill -TERM "${pids[@]}" 2>/dev/null || true
    deadline=$((SECONDS + ${LOCALCLOUD_STOP_TIMEOUT:-20}))
    while :; do
      left=()
      for p in "${pids[@]}"; do proc_matches "$p" "$pattern" && left+=("$p"); done
      ((${#left[@]})) || break
      if ((SECONDS >= deadline)); then
        log "$name did not exit in time; SIGKILL ${left[*]}"
        kill -KILL "${left[@]}" 2>/dev/null || true
        sleep 1
        for p in "${left[@]}"; do
          proc_matches "$p" "$pattern" && die "$name pid $p survived SIGKILL"
        done
        break
      fi
      sleep 0.1
    done
  fi
  rm -f "$STATE/run/$name.pid"
}

# PIDs of this script and its ancestors: their command lines may name the state dir too.
self_and_ancestors() {
  local pid=$BASHPID stat
  while ((pid > 1)); do
    printf '%s\n' "$pid"
    read -r stat 2>/dev/null <"/proc/$pid/stat" || break
    read -r _ pid _ <<<"${stat##*) }"
  done
}

# Processes a compute cloud's daemons left outside their recorded sessions: everything still in network
# namespace NS (say a client run through exec.sh) and everything whose command line names $STATE/ (QEMU
# guests that libvirtd daemonised, dnsmasq and haproxy in Neutron's DHCP namespaces, privsep helpers).
# SIGTERM, then SIGKILL after ${LOCALCLOUD_STOP_TIMEOUT:-20}s.
leftover_pids() {
  local ns=$1 f pid cmd
  local -A skip=()
  for pid in $(self_and_ancestors); do skip[$pid]=1; done
  {
    [[ -e /run/netns/$ns ]] && ip netns pids "$ns" 2>/dev/null
    for f in /proc/[0-9]*/cmdline; do
      pid=${f#/proc/}; pid=${pid%/cmdline}
      cmd=$(tr '\0' ' ' 2>/dev/null <"$f") || continue
      [[ $cmd == *"$STATE/"* ]] && printf '%s\n' "$pid"
    done
  } | sort -un | while read -r pid; do
    [[ -z ${skip[$pid]:-} ]] && proc_running "$pid" && printf '%s\n' "$pid"
  done
}
sweep_leftovers() {
  local ns=$1 pids deadline
  mapfile -t pids < <(leftover_pids "$ns")
  ((${#pids[@]})) || return 0
  log "stopping leftover processes of the cloud: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  deadline=$((SECONDS + ${LOCALCLOUD_STOP_TIMEOUT:-20}))
  while mapfile -t pids < <(leftover_pids "$ns") && ((${#pids[@]})); do
    if ((SECONDS >= deadline)); then
      log "SIGKILL ${pids[*]}"
      kill -KILL "${pids[@]}" 2>/dev/null || true
      sleep 1
      mapfile -t pids < <(leftover_pids "$ns")
      ((${#pids[@]} == 0)) || die "processes ${pids[*]} survived SIGKILL"
      break
    fi
    sleep 0.2
  done
}
