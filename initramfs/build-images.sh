#!/bin/sh
# Build the appvm and netvm directories (Spectrum "Creating VMs" layout) from
# Debian packages only: linux-image-ARCH, busybox-static, s6, execline,
# e2fsprogs, cpio, xz.
#
# usage: build-images.sh BINARY OUTDIR
#   ARCH=amd64            Debian's name for the images' architecture: amd64
#                         (the default) or arm64
#   SYSROOT=DIR           where the guest's packages are unpacked (default:
#                         this machine, for amd64; initramfs/sysroot.sh
#                         makes one for another architecture)
#   KVER=6.1.0-xx-amd64   kernel version (default: newest $SYSROOT/boot/vmlinuz-*)
#   BUSYBOX=/bin/busybox  a statically linked busybox (default: $SYSROOT's)
set -eu

die() { echo "build-images: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $0 BINARY OUTDIR"
BINARY=$1 OUTDIR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ARCH=${ARCH:-amd64}
SYSROOT=${SYSROOT:-}
# Per architecture: the dynamic loader, and how this machine runs the
# guest's programs (ld.so --list, busybox --list): natively or with
# qemu-user, which finds the guest's files in SYSROOT first.
case $ARCH in
  amd64) INTERP=/lib64/ld-linux-x86-64.so.2 ;;
  arm64) INTERP=/lib/ld-linux-aarch64.so.1 QEMU_USER=qemu-aarch64-static ;;
  *) die "ARCH=$ARCH: not amd64 or arm64" ;;
esac
if [ "$(dpkg --print-architecture)" = "$ARCH" ]; then
  RUN=""
else
  [ -n "$SYSROOT" ] || die "ARCH=$ARCH needs SYSROOT (initramfs/sysroot.sh $ARCH DIR makes one)"
  command -v "$QEMU_USER" >/dev/null || die "$QEMU_USER not found (install qemu-user-static)"
  SYSROOT=$(cd "$SYSROOT" && pwd)
  RUN="$QEMU_USER -L $SYSROOT"
fi
BUSYBOX=${BUSYBOX:-$SYSROOT/bin/busybox}
KVER=${KVER:-$(ls "$SYSROOT"/boot/vmlinuz-* 2>/dev/null | sed 's|^.*/boot/vmlinuz-||' | sort -V | tail -n 1)}
MODDIR=$SYSROOT/lib/modules/$KVER

[ -x "$BINARY" ] || die "$BINARY: not an executable (run make build first)"
[ -n "$KVER" ] && [ -f "$SYSROOT/boot/vmlinuz-$KVER" ] || die "no $SYSROOT/boot/vmlinuz-* (install linux-image-$ARCH)"
[ -f "$MODDIR/modules.dep" ] || die "$MODDIR/modules.dep missing"
# The initramfs has no libc, so busybox must be the static build.
[ -x "$BUSYBOX" ] && { [ -n "$RUN" ] || ldd "$BUSYBOX" 2>&1 | grep -qE 'not a dynamic|statically linked'; } ||
  die "$BUSYBOX is missing or not static (install busybox-static)"
for t in mkfs.ext4 cpio xz gzip grep; do
  command -v $t >/dev/null || die "$t not found"
done
# The supervision tree: Debian's s6 (s6-ftrigrd is the helper behind
# s6-svwait) and the execline its run scripts use.
S6_TOOLS="s6-svscan s6-supervise s6-svscanctl s6-svc s6-svstat s6-svwait s6-ftrigrd s6-svok"
for t in $S6_TOOLS; do
  [ -x "$SYSROOT/usr/bin/$t" ] || die "$SYSROOT/usr/bin/$t not found (install s6)"
done
[ -x "$SYSROOT/usr/bin/execlineb" ] && [ -d "$SYSROOT/usr/lib/execline/bin" ] || die "execline not found (install execline)"

# Build next to OUTDIR and rename at the end, so a failed build never leaves
# a half-written image directory that looks complete.
mkdir -p "$(dirname "$OUTDIR")"
WORK=$(mktemp -d "$OUTDIR.tmp.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 1' INT TERM

# --- vmlinux -----------------------------------------------------------------
# Spectrum boots an uncompressed kernel. On x86 that is the ELF (PVH entry);
# Debian ships only the bzImage, whose payload is an xz stream holding that
# ELF: try every xz magic until one decompresses to an ELF (the same idea as
# the kernel's extract-vmlinux). On arm64 Debian's vmlinuz is already the
# uncompressed Image ("ARM\x64" at offset 56).
extract_vmlinux() {
  for off in $(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$1" | cut -d: -f1); do
    tail -c +$((off + 1)) "$1" | xz -dc --single-stream >"$2" 2>/dev/null || true
    [ "$(head -c 4 "$2" | tail -c 3)" = ELF ] && return 0
  done
  die "$1: no xz-compressed ELF payload found"
}
case $ARCH in
  amd64) extract_vmlinux "$SYSROOT/boot/vmlinuz-$KVER" "$WORK/vmlinux" ;;
  arm64)
    [ "$(tail -c +57 "$SYSROOT/boot/vmlinuz-$KVER" | head -c 3)" = ARM ] ||
      die "$SYSROOT/boot/vmlinuz-$KVER: not an uncompressed arm64 Image"
    cp "$SYSROOT/boot/vmlinuz-$KVER" "$WORK/vmlinux" ;;
esac

# --- initramfs ---------------------------------------------------------------
# Debian builds virtio and ext4 as modules. Resolve their dependencies from
# modules.dep (deepest first) so the initramfs can insmod them in order
# without modprobe. crc32c_generic is a softdep of ext4/jbd2 that nothing
# would request_module() for us. virtio_console gives the user's shell its
# hvc0.
#
# resolve_modules "NAMES": sets ORDER to their module files with every
# dependency before its user; built-in names are skipped.
mod_path() { grep -E "(^|/)$1\.ko(\.[a-z]+)?:" "$MODDIR/modules.dep" | head -n 1 | cut -d: -f1; }
mod_deps() { grep "^$1:" "$MODDIR/modules.dep" | head -n 1 | cut -d: -f2; }
resolve() {
  case " $ORDER " in *" $1 "*) return 0 ;; esac
  for d in $(mod_deps "$1"); do resolve "$d"; done
  ORDER="$ORDER $1"
}
resolve_modules() {
  ORDER=""
  for m in $1; do
    p=$(mod_path "$m")
    if [ -z "$p" ]; then
      grep -qE "/$m\.ko$" "$MODDIR/modules.builtin" || die "module $m not found for $KVER"
      continue
    fi
    resolve "$p"
  done
}
# install_modules DIR PATH..: copies the modules there as plain .ko files and
# lists their names in DIR/load-order, one a line, for insmod in that order.
install_modules() {
  dir=$1
  shift
  mkdir -p "$dir"
  : >"$dir/load-order"
  for p in "$@"; do
    name=$(basename "$p" | sed -E 's/\.ko(\.[a-z]+)?$//')
    case $p in # insmod wants a plain .ko; decompress here, not in the guest
      *.ko) cp "$MODDIR/$p" "$dir/$name.ko" ;;
      *.ko.xz) xz -dc "$MODDIR/$p" >"$dir/$name.ko" ;;
      *.ko.gz) gzip -dc "$MODDIR/$p" >"$dir/$name.ko" ;;
      *.ko.zst) zstd -qdc "$MODDIR/$p" >"$dir/$name.ko" ;;
      *) die "$p: unknown module compression" ;;
    esac
    echo "$name" >>"$dir/load-order"
  done
}
resolve_modules "virtio_pci virtio_blk virtio_net virtio_console crc32c_generic ext4"
INITRAMFS_MODULES=$ORDER

IR=$WORK/initramfs.d
mkdir -p "$IR/bin" "$IR/dev" "$IR/proc" "$IR/sys" "$IR/newroot"
cp "$BUSYBOX" "$IR/bin/busybox"
APPLETS=$($RUN "$BUSYBOX" --list)
for a in $APPLETS; do
  [ "$a" = busybox ] || ln -s busybox "$IR/bin/$a"
done
install_modules "$IR/lib/modules" $INITRAMFS_MODULES
install -m 755 "$HERE/initramfs-init" "$IR/init"
(cd "$IR" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 --reproducible) |
  gzip -9 -n >"$WORK/initramfs"

# --- netvm: the uplink's modules -------------------------------------------
# guestnet's firewall table (masquerade, reverse-path fib, conntrack state
# and per-client counts) needs nf_tables, the NAT modules, nft_fib_inet,
# nft_ct and nft_connlimit, which Debian builds as modules. Only the netvm carries
# them, in /lib/modules/netfilter; its /etc/boot.d/modules loads them before
# any service starts. Its boot step and udhcpc hook must be executable.
resolve_modules "nf_tables nft_chain_nat nft_masq nf_nat nf_conntrack nft_fib_inet nft_ct nft_connlimit"
NETVM_MODULES=$ORDER
netvm_uplink() { # ROOTFS_DIR
  install_modules "$1/lib/modules/netfilter" $NETVM_MODULES
  chmod 755 "$1"/etc/boot.d/* "$1"/etc/udhcpc/*
}

# --- rootfs.ext4 -------------------------------------------------------------
# One tree per role: busybox with applet links, guestnet, s6 and execline with
# the glibc pieces they link against, and the role's service tree (rootfs/):
# /sbin/init is an s6 stage 1. Mounted read-only in the guest.

# Copy an ELF program and exactly what the guest's loader resolves for it
# (in SYSROOT), at the same paths.  usage: copy_elf ROOT SOURCE DEST
copy_elf() {
  mkdir -p "$1$(dirname "$3")"
  cp -L "$2" "$1$3"
  for lib in $($RUN "$SYSROOT$INTERP" --list "$2" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
    lib=${lib#"$SYSROOT"} # the loader names itself by the path it was run from
    [ -e "$1$lib" ] && continue
    mkdir -p "$1$(dirname "$lib")"
    cp -L "$SYSROOT$lib" "$1$lib"
  done
}

# The loader's --list of PROGRAM as it loads inside ROOTFS (chroot needs root).
list_in_rootfs() { # ROOTFS PROGRAM
  if [ -n "$RUN" ]; then
    "$QEMU_USER" -L "$1" "$1$INTERP" --list "$2"
  else
    chroot "$1" "$INTERP" --list "$2"
  fi
}

make_rootfs() { # ROLE
  R=$WORK/rootfs-$1.d
  mkdir -p "$R/bin" "$R/sbin" "$R/usr/bin" "$R/etc" "$R/dev" "$R/proc" "$R/sys" "$R/run"
  cp "$BUSYBOX" "$R/bin/busybox"
  for a in $APPLETS; do
    [ "$a" = busybox ] || ln -s busybox "$R/bin/$a"
  done
  ln -s run/tmp "$R/tmp" # the disk is read-only; /run is the only tmpfs
  copy_elf "$R" "$BINARY" /usr/bin/guestnet
  for t in $S6_TOOLS; do copy_elf "$R" "$SYSROOT/usr/bin/$t" "/usr/bin/$t"; done
  # Debian's execlineb is a wrapper putting /usr/lib/execline/bin on PATH;
  # run scripts start with #!/bin/execlineb.
  for t in "$SYSROOT"/usr/lib/execline/bin/*; do copy_elf "$R" "$t" "${t#"$SYSROOT"}"; done
  cp "$SYSROOT/usr/bin/execlineb" "$R/usr/bin/execlineb"
  ln -s ../usr/bin/execlineb "$R/bin/execlineb"
  cp -R "$HERE/rootfs/common/." "$HERE/rootfs/$1/." "$R/"
  case $1 in
    # The very files `make install` ships: the netvm's guestnet is the s6-rc
    # longrun (guestnet watch), the appvm's hotplug is the mdev line.
    # Its clients' resolver is the s6-rc longrun guestnet-dns.
    netvm) mkdir -p "$R/etc/s6/service/guestnet" "$R/etc/s6/service/guestnet-dns" &&
      cp "$HERE/integration/s6-rc/guestnet/run" "$HERE/integration/s6-rc/guestnet/notification-fd" \
      "$R/etc/s6/service/guestnet/" &&
      cp "$HERE/integration/s6-rc/guestnet-dns/run" "$HERE/integration/s6-rc/guestnet-dns/notification-fd" \
      "$R/etc/s6/service/guestnet-dns/" &&
      # The disk is read-only: the DHCP hook writes the lease's resolvers to /run.
      ln -s ../run/resolv.conf "$R/etc/resolv.conf" ;;
    appvm) cp "$HERE/integration/mdev.conf" "$R/etc/mdev.conf" ;;
  esac
  [ "$1" != netvm ] || netvm_uplink "$R"
  echo "$1" >"$R/etc/hostname"
  chmod 755 "$R/sbin/init" "$R"/etc/s6/service/*/run "$R"/etc/s6/service/.s6-svscan/SIGUSR2 \
    "$R"/etc/s6/service/.s6-svscan/finish "$R/etc/s6/await-ready"
  # Catch a missing library now rather than as a silent guest failure
  # (ask the copied loader; running the programs would need /proc). Under
  # qemu-user the rootfs is the first place the loader looks, and this
  # machine has no libraries for a foreign architecture to fall back on.
  if [ -n "$RUN" ] || [ "$(id -u)" = 0 ]; then
    for p in /usr/bin/guestnet /usr/bin/s6-svscan /usr/lib/execline/bin/execlineb; do
      out=$(list_in_rootfs "$R" "$p" 2>&1) && ! echo "$out" | grep -q 'not found' ||
        die "$p cannot load inside the $1 rootfs: $out"
    done
  fi
  # Size: contents + 10% + 4 MiB for metadata. No journal: never mounted rw.
  kib=$(du -sk "$R" | cut -f1)
  mkfs.ext4 -q -F -L "$1" -m 0 -O ^has_journal -E root_owner=0:0 \
    -d "$R" "$WORK/$1.ext4" $((kib + kib / 10 + 4096))K >/dev/null
}

for role in appvm netvm; do
  make_rootfs $role
  D=$WORK/out/$role
  mkdir -p "$D"
  mv "$WORK/$role.ext4" "$D/rootfs.ext4"
  # Hard links keep the two identical 60 MB kernels cheap on disk.
  ln -f "$WORK/vmlinux" "$D/vmlinux" 2>/dev/null || cp "$WORK/vmlinux" "$D/vmlinux"
  ln -f "$WORK/initramfs" "$D/initramfs" 2>/dev/null || cp "$WORK/initramfs" "$D/initramfs"
done
mkdir -p "$WORK/out/appvm/providers/net"
: >"$WORK/out/appvm/providers/net/netvm"

rm -rf "$OUTDIR"
mv "$WORK/out" "$OUTDIR"
echo "build-images: $OUTDIR (kernel $KVER, modules:$(echo $INITRAMFS_MODULES | xargs -n1 basename | sed 's/\.ko.*//' | tr '\n' ' '))"
