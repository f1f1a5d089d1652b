# Guest images for Spectrum OS VMs; include from the top-level Makefile.
#
#   make images   ->  build/vms/appvm/{vmlinux,initramfs,rootfs.ext4,providers/net/netvm}
#                     build/vms/netvm/{vmlinux,initramfs,rootfs.ext4}
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

.PHONY: images images-clean images-force

images: build/vms/.stamp

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

images-clean:
	rm -rf build/vms build/.images-vars build/vm-test build/vm-report.json
