# guestnet — see README.md. `make demo` and `make check` are the two entry points.
SHELL := /bin/bash
BUN := node_modules/.bin/bun
SOURCES := $(shell find agent -name '*.ts') package.json package-lock.json
# x86-64-v2 floor: runs on CPUs without AVX2 (and under QEMU's -cpu max).
BUN_TARGET ?= bun-linux-x64-baseline

.PHONY: all build binary deps system-deps demo check test typecheck install clean deb

VERSION := $(shell sed -n 's/^  "version": "\(.*\)",$$/\1/p' package.json)
DEB := dist/guestnet_$(VERSION)_amd64.deb

include initramfs/images.mk

all: build

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

deps: node_modules/.installed

# Debian packages the tests and the images need (CI runs on a fresh machine).
system-deps:
	./.ci/system-deps

# One self-contained executable (agent/build/compile.ts says what it leaves out).
dist/guestnet: node_modules/.installed $(SOURCES)
	@mkdir -p dist
	$(BUN) agent/build/compile.ts --target $(BUN_TARGET) --outfile $@

build binary: dist/guestnet

# The Debian package (packaging/deb/build-deb); docs/guestnet.8 goes in when
# it exists.
$(DEB): dist/guestnet $(wildcard packaging/deb/* docs/guestnet.8) initramfs/integration/guestnet.service
	packaging/deb/build-deb dist/guestnet $(VERSION) $@

deb: $(DEB)

typecheck: deps
	npx tsc --noEmit

test: deps build
	npx jest

demo: system-deps build
	./test/demo.sh

check: system-deps typecheck build deb images
	npx jest

# An image builder's install: the executable, a systemd unit (not enabled),
# and the s6-rc, mdev and udev files to copy into an image (README: "Baking
# guestnet into an image").
PREFIX ?= /usr
SHARE := $(DESTDIR)$(PREFIX)/share/guestnet
install: build
	install -D -m 0755 dist/guestnet $(DESTDIR)$(PREFIX)/bin/guestnet
	install -D -m 0644 initramfs/integration/guestnet.service $(DESTDIR)$(PREFIX)/lib/systemd/system/guestnet.service
	install -D -m 0644 initramfs/integration/90-guestnet.rules $(SHARE)/udev/90-guestnet.rules
	install -D -m 0644 initramfs/integration/mdev.conf $(SHARE)/mdev.conf
	install -D -m 0644 -t $(SHARE)/s6-rc/guestnet initramfs/integration/s6-rc/guestnet/type \
		initramfs/integration/s6-rc/guestnet/notification-fd
	install -D -m 0755 initramfs/integration/s6-rc/guestnet/run $(SHARE)/s6-rc/guestnet/run

clean: images-clean
	rm -rf dist build

# Benchmarks (bench/RESULTS.md, bench/chart.svg); root, network namespaces, ~3 min.
# BENCH_FLAGS: e.g. --quick, --variant netlink (see bun run bench/bench.ts --help).
.PHONY: bench bench-idle
bench: system-deps build
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
