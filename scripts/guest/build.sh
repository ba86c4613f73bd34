#!/usr/bin/env bash
# Build the bootable test guests: whole-disk raw images of a minimal Debian 12 with OpenSSH, cloud-init and
# sudo, configured like nix/configuration.nix (variant `good`) or wrong in one way each (`root-allowed`,
# `sudo-password`, `no-sshd`). These four boot with BIOS (MBR, SYSLINUX on a FAT16 boot partition, ext4 root);
# `uefi` has good's files but boots with UEFI (GPT, systemd-boot as the removable-media loader on the EFI System
# Partition, ext4 root). `bios-as-uefi` is no disk of its own: good's BIOS disk labelled "bootMode": "uefi", a
# guest that must fail to boot. Each variant's guest.json records its bootMode. No nixpkgs, no loop devices,
# no mounts.
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
# variant -> boot mode; variants/VARIANT holds the files it has instead of rootfs's (uefi: none, as good).
declare -A BOOT=([good]=bios [root-allowed]=bios [sudo-password]=bios [no-sshd]=bios [uefi]=uefi)
VARIANTS=(good root-allowed sudo-password no-sshd uefi)
# Every dir of the cache that gets a default.nix: the variants, and the mislabelled entry (see its guest.json).
ENTRIES=("${VARIANTS[@]}" bios-as-uefi)
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
  for v in "${ENTRIES[@]}"; do
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
  --include=systemd-sysv,udev,kmod,linux-image-amd64,initramfs-tools,openssh-server,cloud-init,sudo,ifupdown,isc-dhcp-client,netbase,iproute2,systemd-boot-efi \
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

# Layouts (sectors of 512 bytes): a 128 MiB FAT boot partition at 1 MiB, then the ext4 root to the end of the
# disk (GPT: up to the last MiB, which holds the backup GPT). Both boot partitions hold the kernel and initrd
# and are made once, for every variant of their boot mode.
# bios: MBR with SYSLINUX's boot code; a FAT16 partition (active) with SYSLINUX.
# uefi: GPT; the EFI System Partition (FAT32) with systemd-boot as \EFI\BOOT\BOOTX64.EFI, the path firmware
#   boots on a disk it has no boot entry for (so the guest needs no NVRAM entry).
S1=2048 N1=262144 S2=$((2048 + 262144))
CMDLINE="root=LABEL=root ro console=tty0 console=ttyS0,115200"
cp "$work/rootfs/boot/$kernel" "$work/vmlinuz"
cp "$work/rootfs/boot/initrd.img-$kver" "$work/initrd.img"

cat >"$work/syslinux.cfg" <<CFG
SERIAL 0 115200
DEFAULT linux
PROMPT 0
TIMEOUT 0
LABEL linux
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND $CMDLINE
CFG
mkfs.vfat -F 16 -n BOOT -h "$S1" -C "$work/boot-bios.img" $((N1 / 2)) >/dev/null
mcopy -i "$work/boot-bios.img" "$work/vmlinuz" "$work/initrd.img" "$work/syslinux.cfg" ::/
syslinux --install "$work/boot-bios.img" # the mtools flavour: works on the unmounted file

# systemd-boot comes from the rootfs (package systemd-boot-efi), so the host needs nothing for it.
printf 'timeout 0\ndefault debian.conf\n' >"$work/loader.conf"
printf 'title Debian %s\nlinux /vmlinuz\ninitrd /initrd.img\noptions %s\n' "$debian" "$CMDLINE" >"$work/debian.conf"
mkfs.vfat -F 32 -n ESP -h "$S1" -C "$work/boot-uefi.img" $((N1 / 2)) >/dev/null
mmd -i "$work/boot-uefi.img" ::/EFI ::/EFI/BOOT ::/loader ::/loader/entries
mcopy -i "$work/boot-uefi.img" "$work/rootfs/usr/lib/systemd/boot/efi/systemd-bootx64.efi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$work/boot-uefi.img" "$work/loader.conf" ::/loader/
mcopy -i "$work/boot-uefi.img" "$work/debian.conf" ::/loader/entries/
mcopy -i "$work/boot-uefi.img" "$work/vmlinuz" "$work/initrd.img" ::/

# partition_bios|uefi DISK: writes the partition table (and boot code) and sets N2, the root's size.
partition_bios() {
  N2=$((DISK_MIB * 2048 - S2))
  printf 'label: dos\nunit: sectors\nstart=%s, size=%s, type=e, bootable\nstart=%s, size=%s, type=83\n' \
    "$S1" "$N1" "$S2" "$N2" | sfdisk -q "$1"
  dd if=/usr/lib/syslinux/mbr/mbr.bin of="$1" bs=440 count=1 conv=notrunc status=none
}
partition_uefi() {
  N2=$((DISK_MIB * 2048 - S2 - 2048))
  printf 'label: gpt\nunit: sectors\nstart=%s, size=%s, type=%s, name=ESP\nstart=%s, size=%s, type=%s, name=root\n' \
    "$S1" "$N1" C12A7328-F81F-11D2-BA4B-00A0C93EC93B "$S2" "$N2" 0FC63DAF-8483-4772-8E79-3D47DE4714F8 |
    sfdisk -q "$1"
}
# guest_json VARIANT DISK-VARIANT BOOT-MODE: the entry's guest.json (read by image.nix).
guest_json() {
  printf '{"variant":"%s","key":"%s","disk":"%s","diskSize":%s,"bootMode":"%s","kernelVersion":"%s","debianVersion":"%s"}\n' \
    "$1" "$key" "$OUT/disks/$2.raw" "$DISK_MIB" "$3" "$kver" "$debian" >"$work/$1/guest.json"
}

for v in "${VARIANTS[@]}"; do
  t=$SECONDS
  mode=${BOOT[$v]}
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
  "partition_$mode" "$disk"
  mkfs.ext4 -q -F -L root -d "$root" "$work/root.img" $((N2 / 2))k
  dd if="$work/boot-$mode.img" of="$disk" bs=1M oflag=seek_bytes seek=$((S1 * 512)) conv=notrunc,sparse status=none
  dd if="$work/root.img" of="$disk" bs=1M oflag=seek_bytes seek=$((S2 * 512)) conv=notrunc,sparse status=none
  rm -f "$work/root.img"
  rm -rf "$root"
  guest_json "$v" "$v" "$mode"
  log "variant $v ($mode): $(du -m "$disk" | cut -f1) MiB allocated of $DISK_MIB ($((SECONDS - t))s)"
done
# A mislabelled image: good's BIOS-only disk recorded as "bootMode": "uefi", so it is uploaded with
# hw_firmware_type=uefi; UEFI firmware finds no bootable disk (no ESP), and a test expects the boot to fail.
mkdir -p "$work/bios-as-uefi"
guest_json bios-as-uefi good uefi

rm -rf "$work/rootfs" "$work"/boot-*.img "$work/vmlinuz" "$work/initrd.img" "$work/syslinux.cfg" "$work/loader.conf" \
  "$work/debian.conf"
touch "$work/.complete"
mv "$work" "$OUT"
trap - EXIT
log "built in $((SECONDS - T0))s"
done_
