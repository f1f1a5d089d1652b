# Guest images for Spectrum OS VMs; include from the top-level Makefile.
#
#   make images   ->  build/vms/appvm/{vmlinux,initramfs,rootfs.ext4,providers/net/netvm}
#                     build/vms/netvm/{vmlinux,initramfs,rootfs.ext4}
#                     build/vms/debian/{vmlinux,initramfs,rootfs.ext4}
#   make images ARCH=arm64  ->  build/vms-arm64/{appvm,netvm}/ (the same
#                     layout; vmlinux is the uncompressed Image), from
#                     dist/arm64/guestnet and Debian's arm64 packages, which
#                     initramfs/sysroot.sh downloads into build/sysroot-arm64
#                     (kept: a later build downloads only what changed)
#
# Built from dist/guestnet and Debian packages only: linux-image-amd64,
# busybox-static, s6, execline, e2fsprogs, cpio, xz-utils. Optional variables:
#   IMAGES_BINARY   the agent to bake in (default: dist/guestnet)
#   IMAGES_KVER     kernel version to use (default: newest /boot/vmlinuz-*)
#   IMAGES_BUSYBOX  statically linked busybox (default: /bin/busybox)
# test/vm expects the images in build/vms, so the output path is fixed.

IMAGES_BINARY ?= dist/guestnet
IMAGES_KVER ?=
IMAGES_BUSYBOX ?= /bin/busybox
IMAGES_SRC := initramfs/build-images.sh initramfs/initramfs-init \
	$(shell find initramfs/rootfs initramfs/integration -type f)

.PHONY: images images-arm64 images-clean images-force

IMAGES_amd64 := build/vms/.stamp build/vms/debian/.stamp
IMAGES_arm64 := build/vms-arm64/.stamp
images: $(IMAGES_$(ARCH))
images-arm64: build/vms-arm64/.stamp

# A sysroot of Debian's arm64 packages; sysroot.sh redoes only what changed,
# so its stamp is remade whenever the script is.
build/sysroot-arm64/.stamp: initramfs/sysroot.sh
	sh initramfs/sysroot.sh arm64 build/sysroot-arm64
	touch $@

build/vms-arm64/.stamp: dist/arm64/guestnet $(IMAGES_SRC) initramfs/sysroot.sh build/sysroot-arm64/.stamp
	ARCH=arm64 SYSROOT=build/sysroot-arm64/root sh initramfs/build-images.sh dist/arm64/guestnet build/vms-arm64
	touch $@

# Also rebuild when the variables change (e.g. another IMAGES_BINARY), not
# only when a file gets newer: this file's date moves only when they do.
build/.images-vars: images-force
	@mkdir -p build
	@echo '$(IMAGES_BINARY) $(IMAGES_KVER) $(IMAGES_BUSYBOX)' | cmp -s - $@ || \
		echo '$(IMAGES_BINARY) $(IMAGES_KVER) $(IMAGES_BUSYBOX)' >$@

build/vms/.stamp: $(IMAGES_BINARY) $(IMAGES_SRC) build/.images-vars
	KVER='$(IMAGES_KVER)' BUSYBOX='$(IMAGES_BUSYBOX)' \
		sh initramfs/build-images.sh $(IMAGES_BINARY) build/vms
	touch $@

# The Debian guest (initramfs/debian-image): debootstrap once into
# build/debian-base, keyed on the suite and package list only; a new .deb or
# new busybox images (build-images.sh replaces build/vms) only redo the copy,
# dpkg -i and mkfs.
DEBIAN_SUITE ?= bookworm
DEBIAN_PACKAGES ?= systemd-sysv,udev,iproute2,kmod,iputils-ping

build/.debian-vars: images-force
	@mkdir -p build
	@echo '$(DEBIAN_SUITE) $(DEBIAN_PACKAGES)' | cmp -s - $@ || \
		echo '$(DEBIAN_SUITE) $(DEBIAN_PACKAGES)' >$@

build/debian-base/.stamp: build/.debian-vars
	SUITE='$(DEBIAN_SUITE)' PACKAGES='$(DEBIAN_PACKAGES)' sh initramfs/debian-image base build/debian-base
	touch $@

build/vms/debian/.stamp: build/debian-base/.stamp $(DEB_amd64) build/vms/.stamp initramfs/debian-image
	sh initramfs/debian-image image build/debian-base $(DEB_amd64) build/vms/appvm build/vms/debian
	touch $@

images-clean:
	rm -rf build/vms build/.images-vars build/vm-test build/vm-report.json
	rm -rf build/vms-arm64 build/sysroot-arm64
	rm -rf build/debian-base build/debian-base.log build/.debian-vars
