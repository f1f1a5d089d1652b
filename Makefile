# guestnet — see README.md. `make demo` and `make check` are the two entry points.
SHELL := /bin/bash
BUN := node_modules/.bin/bun
SOURCES := $(shell find agent -name '*.ts') package.json package-lock.json
# x86-64-v2 floor: runs on CPUs without AVX2 (and under QEMU's -cpu max).
BUN_TARGET ?= bun-linux-x64-baseline

# ARCH (Debian's names): amd64, the default, or arm64, built on this machine
# with bun's cross-compilation and Debian's arm64 packages. make build, deb
# and images make ARCH's; each has its own executable and image directory.
ARCH ?= amd64
BINARY_amd64 := dist/guestnet
BINARY_arm64 := dist/arm64/guestnet
BINARY := $(BINARY_$(ARCH))
$(if $(BINARY),,$(error ARCH=$(ARCH): not amd64 or arm64))

.PHONY: all build binary deps system-deps demo check test typecheck install clean deb

VERSION := $(shell sed -n 's/^  "version": "\(.*\)",$$/\1/p' package.json)
DEB_amd64 := dist/guestnet_$(VERSION)_amd64.deb
DEB_arm64 := dist/guestnet_$(VERSION)_arm64.deb
DEB := dist/guestnet_$(VERSION)_$(ARCH).deb

include initramfs/images.mk

all: build

# npm ci, then the aarch64 bun runtime (make build ARCH=arm64), an
# optionalDependency npm skips on x86_64: npm ci --cpu=arm64 of the same
# lockfile in a scratch directory, production packages only, and it alone
# moved over. (--cpu=arm64 on node_modules itself would leave out this
# machine's own native packages, e.g. jest's resolver.)
NPM_ARM64 := build/npm-arm64
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	rm -rf $(NPM_ARM64) node_modules/@oven/bun-linux-aarch64 && mkdir -p $(NPM_ARM64)
	cp package.json package-lock.json $(NPM_ARM64)/
	cd $(NPM_ARM64) && npm ci --cpu=arm64 --omit=dev --ignore-scripts --no-audit --no-fund
	mv $(NPM_ARM64)/node_modules/@oven/bun-linux-aarch64 node_modules/@oven/
	rm -rf $(NPM_ARM64)
	touch $@

deps: node_modules/.installed

# Debian packages the tests and the images need (CI runs on a fresh machine).
system-deps:
	./.ci/system-deps

# One self-contained executable (agent/build/compile.ts says what it leaves out).
dist/guestnet: node_modules/.installed $(SOURCES)
	@mkdir -p dist
	$(BUN) agent/build/compile.ts --target $(BUN_TARGET) --outfile $@

dist/arm64/guestnet: node_modules/.installed $(SOURCES)
	@mkdir -p dist/arm64
	$(BUN) agent/build/compile.ts --target bun-linux-arm64 --outfile $@

build binary: $(BINARY)

# The Debian package of each architecture (packaging/deb/build-deb). The
# arm64 one takes its libc's symbols from the libc6 package of the arm64
# images' sysroot (initramfs/images.mk).
SYSROOT_arm64 := build/sysroot-arm64
.SECONDEXPANSION:
dist/guestnet_$(VERSION)_%.deb: $$(BINARY_$$*) $(wildcard packaging/deb/*) docs/guestnet.8 \
		initramfs/integration/guestnet.service \
		initramfs/integration/guestnet-dns.service $$(addsuffix /.stamp,$$(SYSROOT_$$*))
	LIBC_DEB=$(if $(SYSROOT_$*),$$(tr ' ' '\n' <$(SYSROOT_$*)/root.list | grep '/libc6_')) \
		packaging/deb/build-deb $(BINARY_$*) $(VERSION) $@ $*

deb: $(DEB)

typecheck: deps
	npx tsc --noEmit

test: deps build
	npx jest

demo: system-deps build
	./test/demo.sh

# arm64's package and images too (test/deb, test/vm/arm64.test.ts).
check: system-deps typecheck build deb images $(DEB_arm64) images-arm64
	npx jest

# An image builder's install: the executable, its man page, a systemd unit
# (not enabled), and the s6-rc, mdev and udev files to copy into an image
# (README: "Baking guestnet into an image"). The integration files in the
# repository call /usr/bin/guestnet; installed, they call $(PREFIX)/bin/guestnet.
PREFIX ?= /usr
BINDIR := $(PREFIX)/bin
SHARE := $(DESTDIR)$(PREFIX)/share/guestnet
INTEGRATION := initramfs/integration
# install-relocated MODE SOURCE TARGET: a copy naming the installed executable.
define install-relocated
	install -d $(dir $(3))
	sed 's|/usr/bin/guestnet|$(BINDIR)/guestnet|g' $(2) >$(3)
	chmod $(1) $(3)
endef
install: build
	@case '$(PREFIX)' in /*) ;; *) echo "make install: PREFIX must be an absolute path, not '$(PREFIX)'" >&2; exit 2;; esac
	@case '$(PREFIX)' in *[!A-Za-z0-9_./+-]*) echo "make install: PREFIX '$(PREFIX)' has characters the integration files cannot carry (use letters, digits, _ . / + -)" >&2; exit 2;; esac
	install -D -m 0755 $(BINARY) $(DESTDIR)$(BINDIR)/guestnet
	install -D -m 0644 docs/guestnet.8 $(DESTDIR)$(PREFIX)/share/man/man8/guestnet.8
	$(call install-relocated,0644,$(INTEGRATION)/guestnet.service,$(DESTDIR)$(PREFIX)/lib/systemd/system/guestnet.service)
	$(call install-relocated,0644,$(INTEGRATION)/90-guestnet.rules,$(SHARE)/udev/90-guestnet.rules)
	$(call install-relocated,0644,$(INTEGRATION)/mdev.conf,$(SHARE)/mdev.conf)
	install -D -m 0644 -t $(SHARE)/s6-rc/guestnet $(INTEGRATION)/s6-rc/guestnet/type \
		$(INTEGRATION)/s6-rc/guestnet/notification-fd
	$(call install-relocated,0755,$(INTEGRATION)/s6-rc/guestnet/run,$(SHARE)/s6-rc/guestnet/run)
	$(call install-relocated,0644,$(INTEGRATION)/guestnet-dns.service,$(DESTDIR)$(PREFIX)/lib/systemd/system/guestnet-dns.service)
	install -D -m 0644 -t $(SHARE)/s6-rc/guestnet-dns $(INTEGRATION)/s6-rc/guestnet-dns/type \
		$(INTEGRATION)/s6-rc/guestnet-dns/notification-fd
	$(call install-relocated,0755,$(INTEGRATION)/s6-rc/guestnet-dns/run,$(SHARE)/s6-rc/guestnet-dns/run)

clean: images-clean
	rm -rf dist build

# Benchmarks (bench/RESULTS.md, bench/chart.svg): boot apply of 1 to 4,096 links,
# hotplug with 8 / 1,024 / 4,096 links configured, start-up against an empty
# program built the same way, guestnet dns against dnsmasq (dnsperf); root,
# network namespaces, ~15 min.
# Also the aarch64 build's start-up and apply under qemu-user, labelled emulated.
# BENCH_FLAGS: e.g. --quick, --variant netlink, --dns-only, --forward-only, --emulated (see bun run bench/bench.ts --help).
.PHONY: bench bench-idle
bench: system-deps build dist/arm64/guestnet build/sysroot-arm64/.stamp
	$(BUN) run bench/bench.ts $(BENCH_FLAGS)

# guestnet watch left idle for 10 minutes; not part of CI.
bench-idle: system-deps build
	$(BUN) run bench/bench.ts --idle $(BENCH_FLAGS)

# guestnet watch under load (root, network namespaces, ~3 min; not part of CI):
# event-source and hotplug latency, VmRSS over thousands of add/remove cycles,
# idle CPU. SOAK_FLAGS: e.g. --cycles 10000, --idle 60, --only latency.
.PHONY: soak
soak: build
	$(BUN) run bench/soak.ts $(SOAK_FLAGS)
