# guestnet — see README.md. `make demo` and `make check` are the two entry points.
SHELL := /bin/bash
BUN := node_modules/.bin/bun
SOURCES := $(shell find agent -name '*.ts') package.json package-lock.json
# x86-64-v2 floor: runs on CPUs without AVX2 (and under QEMU's -cpu max).
BUN_TARGET ?= bun-linux-x64-baseline

.PHONY: all build binary deps system-deps demo check test typecheck clean

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

typecheck: deps
	npx tsc --noEmit

test: deps build
	npx jest

demo: system-deps build
	./test/demo.sh

check: system-deps typecheck build
	npx jest

clean:
	rm -rf dist build
