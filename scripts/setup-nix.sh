#!/bin/sh
# Prepares a Debian/Ubuntu machine (or container without systemd) so root can run
# `nix-build nix ...` and `nix-build test/fixtures/image ...` with the distribution's Nix
# (Debian 12's nix-bin, 2.8) in single-user mode: no nix-daemon, no systemd needed.
#
# Idempotent: run it as often as you like. Usage (as root): scripts/setup-nix.sh
#
# What it does:
#   1. installs nix-bin with apt-get if nix-build is missing;
#   2. creates the `nixbld` group and build users nixbld1..nixbld$NIX_BUILD_USERS (Debian's
#      nix-setup-systemd package would, but that needs systemd and is not installed with nix-bin);
#   3. creates /nix/store and /nix/var with the modes the Nix installer uses;
#   4. sets in /etc/nix/nix.conf (other lines are left alone):
#        build-users-group = nixbld
#        sandbox = relaxed
#      `relaxed` keeps the sandbox for every build except derivations that opt out with
#      `__noChroot = true`. Only the fixture image (test/fixtures/image) does: it needs no nixpkgs,
#      hence no stdenv, and runs the host's /bin/sh and coreutils, which the sandbox hides.
#      (`sandbox = false` would unsandbox every build; exposing /bin/sh through sandbox-paths would
#      also need dash's libraries and coreutils, i.e. most of /usr.)
set -eu

NIX_CONF=${NIX_CONF:-/etc/nix/nix.conf}
NIX_BUILD_USERS=${NIX_BUILD_USERS:-8}

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-nix.sh: run me as root (I create users, /nix and $NIX_CONF)." >&2
  exit 1
fi

# 1. Nix itself.
if ! command -v nix-build >/dev/null 2>&1; then
  echo "setup-nix.sh: installing nix-bin"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nix-bin
fi

# 2. Build users: root's builds run as one of them.
if ! getent group nixbld >/dev/null; then
  groupadd --system nixbld
fi
i=1
while [ "$i" -le "$NIX_BUILD_USERS" ]; do
  if ! getent passwd "nixbld$i" >/dev/null; then
    useradd --system --no-create-home --home-dir /var/empty --shell /usr/sbin/nologin \
      --gid nixbld --groups nixbld --comment "Nix build user $i" "nixbld$i"
  fi
  i=$((i + 1))
done

# 3. The store and Nix's state directories.
install -d -m 0755 /nix /nix/var /nix/var/nix /nix/var/log /nix/var/log/nix \
  /nix/var/nix/gcroots /nix/var/nix/profiles /nix/var/nix/temproots /nix/var/nix/db
install -d -m 1775 -g nixbld /nix/store
chgrp nixbld /nix/store
chmod 1775 /nix/store

# 4. nix.conf: replace the setting if present, append it otherwise.
set_conf() {
  key=$1
  value=$2
  if grep -Eq "^[[:space:]]*$key[[:space:]]*=" "$NIX_CONF"; then
    sed -i -E "s|^[[:space:]]*$key[[:space:]]*=.*|$key = $value|" "$NIX_CONF"
  else
    printf '%s = %s\n' "$key" "$value" >>"$NIX_CONF"
  fi
}
install -d -m 0755 "$(dirname "$NIX_CONF")"
[ -e "$NIX_CONF" ] || : >"$NIX_CONF"
set_conf build-users-group nixbld
set_conf sandbox relaxed

echo "setup-nix.sh: $(nix-build --version); $NIX_CONF:"
sed 's/^/  /' "$NIX_CONF"
