#!/bin/sh
# A sysroot for another architecture's images, from Debian's packages for it:
# the kernel (linux-image-ARCH's current version, modules.dep made here with
# depmod), busybox-static, and s6 and execline with everything they depend on
# (libc6 among them, which guestnet links too). The packages come with
# `apt-get download` under a private APT configuration whose lists and
# downloads stay in DIR, from the Debian archive this machine's APT already
# uses; the machine's dpkg architectures are not touched.
#
# usage: sysroot.sh ARCH DIR
#   DIR/root  the unpacked packages (build-images.sh's SYSROOT)
#   DIR/debs  the packages, kept: a second run downloads only what changed
set -eu

die() { echo "sysroot: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: $0 ARCH DIR"
ARCH=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd)
for t in apt-get apt-cache dpkg-deb depmod; do
  command -v $t >/dev/null || die "$t not found"
done

# --- the private APT ---------------------------------------------------------
# Sources: the Debian archive entries of the machine's own APT (origin
# Debian), one-line style, checked with Debian's keyring.
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$KEYRING" ] || die "$KEYRING missing (install debian-archive-keyring)"
A=$DIR/apt
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/parts" "$A/prefs"
[ -e "$A/status" ] || : >"$A/status" # nothing installed (its date keeps the cache valid)
apt-get indextargets --format "deb [signed-by=$KEYRING] \$(REPO_URI) \$(RELEASE) \$(COMPONENT)" 'Origin: Debian' |
  sort -u >"$A/sources.list.new"
[ -s "$A/sources.list.new" ] || die "this machine's APT knows no Debian archive (run apt-get update)"
mv "$A/sources.list.new" "$A/sources.list"
cat >"$A/apt.conf" <<EOF
APT::Architecture "$ARCH";
APT::Architectures { "$ARCH"; };
Dir::State::Lists "$A/lists";
Dir::State::status "$A/status";
Dir::Cache "$A/cache";
Dir::Etc::SourceList "$A/sources.list";
Dir::Etc::SourceParts "$A/parts";
Dir::Etc::Preferences "$A/prefs/none";
Dir::Etc::PreferencesParts "$A/prefs";
APT::Get::List-Cleanup "false";
EOF
export APT_CONFIG=$A/apt.conf
# The machine's apt.conf.d (read after APT_CONFIG) may turn the package
# cache off, which costs seconds a call; the command line comes last.
apt_() { "$@" -o "Dir::Cache::pkgcache=$A/cache/pkgcache.bin" -o "Dir::Cache::srcpkgcache=$A/cache/srcpkgcache.bin"; }
update() { apt_ apt-get -q update >"$DIR/apt-update.log" 2>&1 || die "apt-get update failed: $DIR/apt-update.log"; }
ls "$A/lists/"*Packages* >/dev/null 2>&1 || update

# --- which packages ----------------------------------------------------------
# The kernel package linux-image-ARCH points at; s6 and execline with their
# dependencies, pre-dependencies included.
closure() {
  apt_ apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances "$@" | grep -v '^ ' | sed 's/:.*//' | sort -u
}
packages() {
  kernel=$(apt_ apt-cache depends "linux-image-$ARCH" | sed -n 's/^  Depends: \(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
  [ -n "$kernel" ] || die "linux-image-$ARCH depends on no linux-image-VERSION"
  s6=$(closure s6 execline)
  [ -n "$s6" ] || die "no s6 or execline for $ARCH"
  echo "$kernel busybox-static $(echo "$s6" | tr '\n' ' ')"
}
# Downloads only the files not in debs/ yet; FILES: the packages' files.
# Lists that are too old may name versions the archive has dropped (a point
# release): refresh them once and try again. (set -e is off in a function
# called left of ||: each step says whether it failed.)
mkdir -p "$DIR/debs"
download() {
  PKGS=$(packages) || return 1
  apt_ apt-get download --print-uris $PKGS >"$DIR/uris" || return 1
  FILES=$(cut -d' ' -f2 "$DIR/uris" | sort)
  missing=""
  for f in $FILES; do [ -f "$DIR/debs/$f" ] || missing="$missing ${f%%_*}"; done
  [ -z "$missing" ] || (cd "$DIR/debs" && apt_ apt-get -q download $missing >"$DIR/apt-download.log" 2>&1)
}
download || { update && download; } || die "apt-get download failed: $DIR/apt-download.log"

# --- unpack ------------------------------------------------------------------
# Only the packages just named (older versions may lie in debs/ too), into a
# fresh root, renamed into place at the end.
files=$(echo "$FILES" | sed "s|^|$DIR/debs/|" | tr '\n' ' ')
if [ "$(cat "$DIR/root.list" 2>/dev/null)" != "$files" ] || [ ! -d "$DIR/root" ]; then
  rm -rf "$DIR/root.tmp"
  mkdir -p "$DIR/root.tmp"
  for f in $files; do dpkg-deb -x "$f" "$DIR/root.tmp"; done
  kver=$(ls "$DIR/root.tmp/lib/modules")
  depmod -b "$DIR/root.tmp" "$kver"
  rm -rf "$DIR/root"
  mv "$DIR/root.tmp" "$DIR/root"
  echo "$files" >"$DIR/root.list"
fi
echo "sysroot: $DIR/root ($ARCH: $(echo "$PKGS" | wc -w) packages, kernel $(ls "$DIR/root/lib/modules"))"
