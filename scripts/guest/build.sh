#!/usr/bin/env bash
# Build the bootable test guests: whole-disk raw BIOS images (MBR, SYSLINUX, ext4 root) of a minimal Debian 12
# with OpenSSH, cloud-init and sudo, configured like nix/configuration.nix (variant `good`) or wrong in one
# way each (`root-allowed`, `sudo-password`, `no-sshd`). No nixpkgs, no loop devices, no mounts.
#
# usage: scripts/guest/build.sh      (as root: mmdebstrap --mode=root)
#   Prints (last stdout line) the cache dir that holds, per variant, disks/VARIANT.raw and VARIANT/default.nix +
#   guest.json: a Nix expression usable as the component's `source` (see image.nix).
#   The cache is ${NCI_CACHE:-$HOME/.cache/nixos-cloud-image}/guests/<key>, where <key> hashes every file of
#   this directory: an unchanged builder is built once; any change to it builds anew.
# env: GUEST_MIRROR (http://deb.debian.org/debian), GUEST_DISK_MIB (2048).
# Needs the Debian packages mmdebstrap syslinux syslinux-common mtools dosfstools fdisk e2fsprogs.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VARIANTS=(good root-allowed sudo-password no-sshd)
MIRROR=${GUEST_MIRROR:-http://deb.debian.org/debian}
DISK_MIB=${GUEST_DISK_MIB:-2048}
log() { printf 'guest: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
exec 3>&1 1>&2 # stdout carries only the result line
export LC_ALL=C

for tool in mmdebstrap sfdisk mkfs.vfat mcopy syslinux mkfs.ext4; do
  command -v "$tool" >/dev/null || die "$tool missing: apt-get install --no-install-recommends mmdebstrap syslinux syslinux-common mtools dosfstools fdisk e2fsprogs"
done
[[ -f /usr/lib/syslinux/mbr/mbr.bin ]] || die "/usr/lib/syslinux/mbr/mbr.bin missing: apt-get install syslinux-common"
((DISK_MIB >= 1024)) || die "GUEST_DISK_MIB must be at least 1024; received $DISK_MIB"

# The key: the files the disks are made of (names, contents, symlink targets, exec bits: all of this
# directory but image.nix) and the settings above.
key=$( {
  cd "$HERE" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode=u+rw,go-w \
    --exclude=./image.nix -cf - .
  printf '%s\n' "$MIRROR" "$DISK_MIB"
} | sha256sum | cut -c1-20)
CACHE=${NCI_CACHE:-$HOME/.cache/nixos-cloud-image}/guests
OUT=$CACHE/$key
# image.nix is not part of the key: every run installs the current one as each variant's default.nix
# (atomically, so a concurrent nix-build reads the old or the new file).
done_() {
  local v
  for v in "${VARIANTS[@]}"; do
    cmp -s "$HERE/image.nix" "$OUT/$v/default.nix" && continue
    cp "$HERE/image.nix" "$OUT/$v/.default.nix.tmp" && mv "$OUT/$v/.default.nix.tmp" "$OUT/$v/default.nix"
  done
  log "guests ready in $OUT"
  echo "$OUT" >&3
  exit 0
}
[[ -e $OUT/.complete ]] && done_

mkdir -p "$CACHE"
exec 9>"$CACHE/$key.lock" # a second builder of the same key waits, then finds it done
flock 9
[[ -e $OUT/.complete ]] && done_
T0=$SECONDS
work=$(mktemp -d "$CACHE/.build-$key.XXXXXX")
trap 'rm -rf "$work"' EXIT
rm -rf "$OUT"

log "mmdebstrap bookworm from $MIRROR (a few minutes)"
mmdebstrap --mode=root --variant=minbase --quiet \
  --include=systemd-sysv,udev,kmod,linux-image-amd64,initramfs-tools,openssh-server,cloud-init,sudo,ifupdown,isc-dhcp-client,netbase,iproute2 \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --customize-hook="cp -r --preserve=mode '$HERE/rootfs/.' \"\$1/\"" \
  --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
  bookworm "$work/rootfs" "$MIRROR" >&2
log "rootfs done ($((SECONDS - T0))s, $(du -sm "$work/rootfs" | cut -f1) MiB)"
# ssh host keys are made on the guest's first boot (cloud-init), so every instance has its own.

kernel=$(cd "$work/rootfs/boot" && ls vmlinuz-* | head -n1)
kver=${kernel#vmlinuz-}
[[ -f $work/rootfs/boot/initrd.img-$kver ]] || die "no initrd for kernel $kver"
debian=$(cat "$work/rootfs/etc/debian_version")

# Layout (sectors of 512 bytes): a 128 MiB FAT16 boot partition with SYSLINUX, kernel and initrd; the rest ext4.
S1=2048 N1=262144
S2=$((S1 + N1)) N2=$((DISK_MIB * 2048 - S1 - N1))
cat >"$work/syslinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND root=LABEL=root ro console=tty0 console=ttyS0,115200
CFG
cp "$work/rootfs/boot/$kernel" "$work/vmlinuz"
cp "$work/rootfs/boot/initrd.img-$kver" "$work/initrd.img"
mkfs.vfat -F 16 -n BOOT -h "$S1" -C "$work/boot.img" $((N1 / 2)) >/dev/null
mcopy -i "$work/boot.img" "$work/vmlinuz" "$work/initrd.img" "$work/syslinux.cfg" ::/
syslinux --install "$work/boot.img" # the mtools flavour: works on the unmounted file

for v in "${VARIANTS[@]}"; do
  t=$SECONDS
  root=$work/root-$v
  cp -al "$work/rootfs" "$root" # hard links: the variant's own files are replaced, never edited in place
  (cd "$HERE/variants/$v" && find . \( -type f -o -type l \) ! -name .keep) | while read -r f; do
    rm -f "$root/$f"
    mkdir -p "$(dirname "$root/$f")"
    cp -P --preserve=mode "$HERE/variants/$v/$f" "$root/$f"
  done
  # The disk stays beside the variant's source dir, not in it: the component hashes every file of a source.
  mkdir -p "$work/$v" "$work/disks"
  disk=$work/disks/$v.raw
  truncate -s "${DISK_MIB}M" "$disk"
  printf 'label: dos\nunit: sectors\nstart=%s, size=%s, type=e, bootable\nstart=%s, size=%s, type=83\n' \
    "$S1" "$N1" "$S2" "$N2" | sfdisk -q "$disk"
  dd if=/usr/lib/syslinux/mbr/mbr.bin of="$disk" bs=440 count=1 conv=notrunc status=none
  mkfs.ext4 -q -F -L root -d "$root" "$work/root.img" $((N2 / 2))k
  dd if="$work/boot.img" of="$disk" bs=1M oflag=seek_bytes seek=$((S1 * 512)) conv=notrunc,sparse status=none
  dd if="$work/root.img" of="$disk" bs=1M oflag=seek_bytes seek=$((S2 * 512)) conv=notrunc,sparse status=none
  rm -f "$work/root.img"
  rm -rf "$root"
  printf '{"variant":"%s","key":"%s","disk":"%s","diskSize":%s,"kernelVersion":"%s","debianVersion":"%s"}\n' \
    "$v" "$key" "$OUT/disks/$v.raw" "$DISK_MIB" "$kver" "$debian" >"$work/$v/guest.json"
  log "variant $v: $(du -m "$disk" | cut -f1) MiB allocated of $DISK_MIB ($((SECONDS - t))s)"
done

rm -rf "$work/rootfs" "$work/boot.img" "$work/vmlinuz" "$work/initrd.img" "$work/syslinux.cfg"
touch "$work/.complete"
mv "$work" "$OUT"
trap - EXIT
log "built in $((SECONDS - T0))s"
done_
