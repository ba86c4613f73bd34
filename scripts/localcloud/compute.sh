# shellcheck shell=bash
# Sourced by start.sh --compute, inside the cloud's network namespace, after Keystone + Glance are up:
# MariaDB, RabbitMQ, Placement, libvirt/QEMU, Nova and Neutron (ML2 + linuxbridge: a flat provider network
# that is also the floating IPs' external network, and a tenant network behind a router).
# Every daemon starts from its Python entry point (no service packages, no systemd, nothing in /etc
# edited), detached with setsid, its PID in STATE/run, its log in STATE/log.
#
# The namespace is what keeps the test traffic in: the APIs listen on its own 127.0.0.1 (the fixed ports
# below clash with nothing on the machine), the guest bridge and its 10.99.0.1 exist only there, and so do
# Neutron's DHCP namespaces. stop.sh deletes it, and with it every bridge, veth, tap and iptables chain.

HOST=nci-compute # one name for Nova's compute host and Neutron's agents: ports bind to the agent on it
PLACEMENT_PORT=8778 NOVA_PORT=8774 METADATA_PORT=8775 NEUTRON_PORT=9696 RABBIT_PORT=5672
EPMD_PORT=4369 RABBIT_DIST_PORT=25672
BRIDGE=nci-provider PHYS_IF=nci-phys # the gateway bridge and the veth end Neutron maps as physnet1
DISK_GB=${COMPUTE_FLAVOR_DISK_GB:-4}
CTIMEOUT=${COMPUTE_TIMEOUT:-600} # one deadline for all compute daemons: 2 busy vCPUs took 4 min
SOCK=$STATE/mysql/mysqld.sock
LIBVIRT_URI="qemu+unix:///system?socket=$STATE/libvirt/run/libvirt-sock"
DB_OPTS="?unix_socket=$SOCK&charset=utf8"

# Substitute every @NAME@ of the compute templates from the shell variables of the same name.
render_compute() {
  local v args=()
  for v in STATE HOST REGION KEYSTONE_PORT PLACEMENT_PORT NOVA_PORT METADATA_PORT NEUTRON_PORT \
    RABBIT_PORT PHYS_IF DB DB_OPTS NOVA_PASSWORD PLACEMENT_PASSWORD NEUTRON_PASSWORD METADATA_SECRET; do
    args+=(-e "s|@$v@|${!v//&/\\&}|g")
  done
  sed "${args[@]}" "$HERE/compute/$1" >"$2"
}

# Run Python entry point MODULE:main as program NAME (logs and /proc show which daemon it is).
py_main() { # NAME MODULE ARGS...
  local name=$1 mod=$2
  shift 2
  "$PY" -c "import sys; sys.argv[0] = '$name'; from $mod import main; sys.exit(main())" "$@"
}

# Start daemon NAME with the command after it, detached (own session), in STATE, logging to STATE/log.
spawn() {
  local name=$1
  shift
  (cd "$STATE" && exec setsid "$@" </dev/null >>"$STATE/log/$name.log" 2>&1 3>&- 8>&- 9>&-) &
  echo $! >"$STATE/run/$name.pid"
  log "started $name (pid $!)"
}

# Start NAME (a start_NAME function) unless it already runs from this state dir.
ensure_c() {
  local name=$1 pid
  if pid=$(daemon_pid "$name"); then
    log "$name already running (pid $pid)"
    return
  fi
  stop_daemon "$name"
  "start_${name//-/_}"
}

NOVA_CONF=(--config-file "$STATE/etc/nova.conf")
NEUTRON_CONF=(--config-file "$STATE/etc/neutron.conf")

start_mariadb() {
  spawn mariadb /usr/sbin/mariadbd --no-defaults --user=root --datadir="$STATE/mysql" --socket="$SOCK" \
    --skip-networking --skip-log-bin --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=0 \
    --innodb-doublewrite=0 --performance-schema=OFF --max-connections=500 \
    --pid-file="$STATE/mysql/mariadbd.pid"
}
start_epmd() { spawn epmd /usr/bin/epmd -port "$EPMD_PORT" -address 127.0.0.1; }
start_rabbitmq() {
  # HOME holds the Erlang cookie; the env file and plugin list replace /etc/rabbitmq's.
  spawn rabbitmq env HOME="$STATE/rabbitmq" RABBITMQ_CONF_ENV_FILE="$STATE/etc/rabbitmq-env.conf" \
    RABBITMQ_CONFIG_FILE="$STATE/etc/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$STATE/etc/rabbitmq-enabled-plugins" \
    RABBITMQ_MNESIA_BASE="$STATE/rabbitmq/mnesia" RABBITMQ_LOG_BASE="$STATE/log/rabbitmq" \
    RABBITMQ_NODENAME=nci@localhost RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$RABBIT_PORT" \
    RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" ERL_EPMD_PORT="$EPMD_PORT" ERL_EPMD_ADDRESS=127.0.0.1 \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    /usr/lib/rabbitmq/bin/rabbitmq-server
}
start_placement() { spawn placement /usr/bin/uwsgi-core --ini "$STATE/etc/placement-uwsgi.ini"; }
start_libvirtd() {
  # Its own mount namespace, where /etc/libvirt, /run/libvirt, /var/{lib,cache,log}/libvirt are
  # directories of STATE: nothing of the machine's is read or written, and two clouds do not meet.
  local d
  for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
    [[ -d $d ]] || mkdir -p "$d" # empty mount points, as libvirt-daemon-system would create them
  done
  spawn libvirtd unshare -m --propagation private sh -c '
    s=$1
    mount --bind "$s/libvirt/etc" /etc/libvirt && mount --bind "$s/libvirt/run" /run/libvirt &&
      mount --bind "$s/libvirt/lib" /var/lib/libvirt && mount --bind "$s/libvirt/cache" /var/cache/libvirt &&
      mount --bind "$s/libvirt/log" /var/log/libvirt || exit 1
    exec /usr/sbin/libvirtd -f "$s/libvirt/etc/libvirtd.conf" -p "$s/libvirt/run/libvirtd.pid"' sh "$STATE"
}
start_nova_api() { spawn nova-api "$PY" -c "$(py_src nova-api nova.cmd.api)" "${NOVA_CONF[@]}"; }
start_nova_conductor() { spawn nova-conductor "$PY" -c "$(py_src nova-conductor nova.cmd.conductor)" "${NOVA_CONF[@]}"; }
start_nova_scheduler() { spawn nova-scheduler "$PY" -c "$(py_src nova-scheduler nova.cmd.scheduler)" "${NOVA_CONF[@]}"; }
start_nova_compute() { spawn nova-compute "$PY" -c "$(py_src nova-compute nova.cmd.compute)" "${NOVA_CONF[@]}"; }
start_neutron_server() {
  # get_ports always names Port.port_forwardings, a relationship that exists only once the port-forwarding
  # model is imported and the ORM mappers are configured; without the L3 plugins that happened by chance
  # (or not: HTTP 500 on port lists and deletes). So: every model imported, mappers configured, up front.
  # But after eventlet's monkey patching (importing neutron.cmd.eventlet does it, as neutron-server would):
  # imported before it, oslo.db makes its engine-start lock a native one, and the first two green threads of
  # an RPC worker to use the database deadlock on it for good (the agents' calls then time out forever).
  local pre="import neutron.cmd.eventlet; from neutron.db.migration.models import head; import sqlalchemy.orm; sqlalchemy.orm.configure_mappers()"
  spawn neutron-server "$PY" -c "$pre; $(py_src neutron-server neutron.cmd.eventlet.server)" \
    "${NEUTRON_CONF[@]}" --config-file "$STATE/etc/ml2_conf.ini"
}
start_neutron_linuxbridge() {
  spawn neutron-linuxbridge "$PY" -c "$(py_src neutron-linuxbridge-agent neutron.cmd.eventlet.plugins.linuxbridge_neutron_agent)" \
    "${NEUTRON_CONF[@]}" --config-file "$STATE/etc/linuxbridge_agent.ini"
}
start_neutron_dhcp() {
  spawn neutron-dhcp "$PY" -c "$(py_src neutron-dhcp-agent neutron.cmd.eventlet.agents.dhcp)" \
    "${NEUTRON_CONF[@]}" --config-file "$STATE/etc/dhcp_agent.ini"
}
start_neutron_l3() {
  spawn neutron-l3 "$PY" -c "$(py_src neutron-l3-agent neutron.cmd.eventlet.agents.l3)" \
    "${NEUTRON_CONF[@]}" --config-file "$STATE/etc/l3_agent.ini"
}
start_neutron_metadata() {
  spawn neutron-metadata "$PY" -c "$(py_src neutron-metadata-agent neutron.cmd.eventlet.agents.metadata)" \
    "${NEUTRON_CONF[@]}" --config-file "$STATE/etc/metadata_agent.ini"
}
# The Python source that runs MODULE:main as program NAME (privsep helpers re-read sys.argv[0]).
py_src() { printf "import sys; sys.argv[0] = '%s'; from %s import main; sys.exit(main())" "$1" "$2"; }

# In the order they start; stop.sh stops them in reverse.
COMPUTE_DAEMONS=(mariadb epmd rabbitmq placement libvirtd nova-api nova-conductor nova-scheduler
  neutron-server neutron-linuxbridge neutron-dhcp neutron-l3 neutron-metadata nova-compute)

# Wait until COMMAND succeeds; fail early if daemon NAME died, or after CTIMEOUT seconds.
wait_for() { # NAME WHAT COMMAND...
  local name=$1 what=$2
  shift 2
  until "$@" >/dev/null 2>&1; do
    if ! proc_running "$(cat "$STATE/run/$name.pid" 2>/dev/null)"; then
      log "$name exited during startup; last lines of its log:"
      tail -n 30 "$STATE/log/$name.log" >&2 || true
      die "$name did not start"
    fi
    if ((SECONDS >= CDEADLINE)); then
      tail -n 30 "$STATE/log/$name.log" >&2 || true
      die "$name: $what not ready after ${CTIMEOUT}s"
    fi
    sleep 0.5
  done
  log "$name ready: $what ($(elapsed)s)"
}
http_up() { curl -sS -m 3 -o /dev/null "$1"; } # any HTTP answer (401 included) means the API listens

# The guest network: a bridge holding the gateway address and one end of a veth pair, whose other end is
# the "physical" interface of physnet1. Recreated on every start (the namespace may be new).
ensure_network() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add 10.99.0.1/24 dev "$BRIDGE"
    ip link add "$PHYS_IF" type veth peer name "$PHYS_IF-br"
    ip link set "$PHYS_IF-br" master "$BRIDGE"
    log "guest network: bridge $BRIDGE 10.99.0.1/24, physnet1 = $PHYS_IF (namespace $NETNS)"
  fi
  ip link set "$BRIDGE" up
  ip link set "$PHYS_IF-br" up
  ip link set "$PHYS_IF" up
}

mysql_() { mariadb --no-defaults --socket="$SOCK" -uroot "$@"; }

compute_setup_fresh() {
  log "setting up compute services"
  for d in "${COMPUTE_DAEMONS[@]}"; do stop_daemon "$d"; done
  rm -rf "${STATE:?}"/{mysql,rabbitmq,nova,neutron,libvirt,etc/placement} "$STATE"/log/rabbitmq "$STATE/compute.env"
  mkdir -p "$STATE"/{mysql,rabbitmq,nova/instances,neutron,etc/placement,log/rabbitmq} \
    "$STATE"/libvirt/{etc,run,lib,cache,log}
  {
    for v in NOVA_PASSWORD PLACEMENT_PASSWORD NEUTRON_PASSWORD DB_PASSWORD METADATA_SECRET; do
      printf '%s=%s\n' "$v" "$(new_password)"
    done
  } >"$STATE/compute.env"
  chmod 600 "$STATE/compute.env"
  # shellcheck source=/dev/null
  . "$STATE/compute.env"
  DB=mysql+pymysql://openstack:$DB_PASSWORD@localhost

  render_compute nova.conf.in "$STATE/etc/nova.conf"
  cp "$HERE/compute/nova-api-paste.ini" "$STATE/etc/nova-api-paste.ini"
  render_compute neutron.conf.in "$STATE/etc/neutron.conf"
  cp "$HERE/compute/neutron-api-paste.ini" "$STATE/etc/neutron-api-paste.ini"
  for f in ml2_conf linuxbridge_agent dhcp_agent l3_agent metadata_agent; do
    render_compute "$f.ini.in" "$STATE/etc/$f.ini"
  done
  render_compute placement.conf.in "$STATE/etc/placement/placement.conf"
  render_compute placement-uwsgi.ini.in "$STATE/etc/placement-uwsgi.ini"
  cp "$HERE/compute/libvirtd.conf" "$HERE/compute/qemu.conf" "$STATE/libvirt/etc/"
  cp "$HERE/compute/dnsmasq.conf" "$STATE/etc/dnsmasq.conf"
  : >"$STATE/etc/rabbitmq-env.conf"
  echo '[].' >"$STATE/etc/rabbitmq-enabled-plugins"
  printf 'loopback_users = none\nlisteners.tcp.default = 127.0.0.1:%s\n' "$RABBIT_PORT" >"$STATE/etc/rabbitmq.conf"

  mariadb-install-db --no-defaults --datadir="$STATE/mysql" --user=root \
    --auth-root-authentication-method=socket --skip-test-db >"$STATE/log/setup-mariadb.log" 2>&1 ||
    { tail -n 30 "$STATE/log/setup-mariadb.log" >&2; die "mariadb-install-db failed"; }
  start_mariadb
  start_epmd
  start_rabbitmq
  # Identity data needs only Keystone: meanwhile MariaDB and RabbitMQ boot.
  KEYSTONE_URL=http://127.0.0.1:$KEYSTONE_PORT/v3 GLANCE_URL=http://127.0.0.1:$GLANCE_PORT \
    NOVA_URL=http://127.0.0.1:$NOVA_PORT/v2.1 PLACEMENT_URL=http://127.0.0.1:$PLACEMENT_PORT \
    NEUTRON_URL=http://127.0.0.1:$NEUTRON_PORT REGION=$REGION ADMIN_PASSWORD=$ADMIN_PASSWORD \
    GLANCE_PASSWORD=$GLANCE_PASSWORD DEMO_PASSWORD=$DEMO_PASSWORD NOVA_PASSWORD=$NOVA_PASSWORD \
    PLACEMENT_PASSWORD=$PLACEMENT_PASSWORD NEUTRON_PASSWORD=$NEUTRON_PASSWORD \
    "$PY" "$HERE/identity.py" 3>&- 8>&- >"$STATE/log/setup-identity-compute.log" 2>&1 ||
    { tail -n 30 "$STATE/log/setup-identity-compute.log" >&2; die "compute identity data (identity.py) failed"; }
  log "compute identity data done ($(elapsed)s)"

  wait_for mariadb "socket $SOCK" mysql_ -e 'SELECT 1'
  mysql_ <<SQL
CREATE DATABASE nova_api; CREATE DATABASE nova; CREATE DATABASE nova_cell0;
CREATE DATABASE placement; CREATE DATABASE neutron;
CREATE USER 'openstack'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO 'openstack'@'localhost';
SQL
  # The schema migrations, in parallel (each is mostly Python imports).
  local jobs=() j
  (placement_manage db sync) >"$STATE/log/setup-placement-db.log" 2>&1 3>&- 8>&- &
  jobs+=("$!:placement-db")
  (neutron_db_manage upgrade heads) >"$STATE/log/setup-neutron-db.log" 2>&1 3>&- 8>&- &
  jobs+=("$!:neutron-db")
  wait_for rabbitmq "AMQP 127.0.0.1:$RABBIT_PORT" port_in_use "$RABBIT_PORT"
  (nova_manage api_db sync && nova_manage cell_v2 map_cell0 &&
    nova_manage cell_v2 create_cell --name cell1 && nova_manage db sync) \
    >"$STATE/log/setup-nova-db.log" 2>&1 3>&- 8>&- &
  jobs+=("$!:nova-db")
  for j in "${jobs[@]}"; do
    wait "${j%%:*}" || { tail -n 30 "$STATE/log/setup-${j#*:}.log" >&2; die "setup step ${j#*:} failed"; }
    log "setup ${j#*:} done ($(elapsed)s)"
  done
}

placement_manage() { /usr/bin/placement-manage --config-file "$STATE/etc/placement/placement.conf" "$@"; }
nova_manage() { py_main nova-manage nova.cmd.manage "${NOVA_CONF[@]}" "$@"; }
neutron_db_manage() {
  py_main neutron-db-manage neutron.db.migration.cli "${NEUTRON_CONF[@]}" --config-file "$STATE/etc/ml2_conf.ini" "$@"
}

# A start that fails (or is interrupted) stops the compute daemons again, so nothing runs half set up;
# stop.sh removes the rest (Keystone, Glance, the namespace).
compute_on_exit() {
  local rc=$? i
  ((rc)) || return 0
  log "compute start failed (exit $rc): stopping its daemons"
  for ((i = ${#COMPUTE_DAEMONS[@]} - 1; i >= 0; i--)); do stop_daemon "${COMPUTE_DAEMONS[i]}" || true; done
}

compute_start() {
  CDEADLINE=$((SECONDS + CTIMEOUT))
  trap compute_on_exit EXIT
  # libvirtd looks up its built-in QEMU user and group before it reads qemu.conf (which says root):
  # make them as libvirt-daemon-system's postinst would.
  getent group kvm >/dev/null || groupadd --system kvm
  getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    useradd --system --no-create-home --home-dir /var/lib/libvirt --gid kvm --shell /usr/sbin/nologin libvirt-qemu
  if [[ ! -e $STATE/.compute-complete ]]; then
    compute_setup_fresh
  else
    log "restarting compute services"
    # shellcheck source=/dev/null
    . "$STATE/compute.env"
    DB=mysql+pymysql://openstack:$DB_PASSWORD@localhost
    ensure_c mariadb
    ensure_c epmd
    ensure_c rabbitmq
    wait_for mariadb "socket $SOCK" mysql_ -e 'SELECT 1'
    wait_for rabbitmq "AMQP 127.0.0.1:$RABBIT_PORT" port_in_use "$RABBIT_PORT"
  fi
  ensure_network
  local d
  for d in placement libvirtd nova-api nova-conductor nova-scheduler neutron-server; do
    ensure_c "$d"
  done
  # The agents' first RPC calls are lost (and time out after a minute) while neutron-server's RPC
  # workers are not consuming yet: start them once its API answers (the workers start with it).
  wait_for neutron-server "http://127.0.0.1:$NEUTRON_PORT" http_up "http://127.0.0.1:$NEUTRON_PORT/"
  for d in neutron-linuxbridge neutron-dhcp neutron-l3 neutron-metadata; do
    ensure_c "$d"
  done
  # nova-compute exits at once if libvirt's socket is not there yet.
  wait_for libvirtd "$LIBVIRT_URI" virsh -c "$LIBVIRT_URI" version
  ensure_c nova-compute
  wait_for placement "http://127.0.0.1:$PLACEMENT_PORT" http_up "http://127.0.0.1:$PLACEMENT_PORT/"
  wait_for nova-api "http://127.0.0.1:$NOVA_PORT" http_up "http://127.0.0.1:$NOVA_PORT/"
  # A server created before its host is mapped to a cell fails ("Host ... is not mapped"): map it now
  # rather than wait for the scheduler's periodic discovery.
  wait_for nova-compute "host $HOST mapped to cell1" compute_host_mapped
  if [[ ! -e $STATE/.compute-complete ]]; then
    OS_CLIENT_CONFIG_FILE=$STATE/clouds.yaml DISK_GB=$DISK_GB "$PY" "$HERE/compute/setup.py" 3>&- 8>&- \
      >"$STATE/log/setup-resources.log" 2>&1 ||
      { tail -n 30 "$STATE/log/setup-resources.log" >&2; die "flavor/network setup (compute/setup.py) failed"; }
    log "flavor m1.verify and network provider done ($(elapsed)s)"
    touch "$STATE/.compute-complete"
  fi
  # A guest asks for its address once, about a minute after boot: the network's dnsmasq must be serving
  # before anyone creates a server (the DHCP agent's first calls time out until Neutron's RPC is up).
  wait_for neutron-dhcp "dnsmasq serving network provider" dhcp_serving
  trap - EXIT
}

dhcp_serving() {
  local f pid
  for f in "$STATE"/neutron/dhcp/*/pid; do
    pid=$(cat "$f" 2>/dev/null) && proc_matches "$pid" "$STATE/neutron/dhcp/" && return 0
  done
  return 1
}

compute_host_mapped() {
  nova_manage cell_v2 discover_hosts >/dev/null 2>&1
  nova_manage cell_v2 list_hosts 2>/dev/null | grep -q " $HOST "
}
