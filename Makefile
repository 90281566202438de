# SPDX-License-Identifier: MIT
# The two commands of the README.  Everything real is in CMake; this file
# installs what is missing, configures build/ and calls cmake and ctest.
#   make run [ARGS="--exec 'echo hi'"]   build and boot the default guest
#                                        (no ARGS: with a scratch disk and conet0)
#   make test                            build and run the whole test suite
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# CI (CI=true in the environment) turns warnings into errors.
ifneq ($(CI),)
CMAKE_FLAGS += -DCOOP_WERROR=ON
endif

# bash with pipefail: the build's status survives the filter below.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# CMake's makefiles announce every target; keep only what matters.
QUIET := | { grep -v '^\[ *[0-9]*%\] Built target' || true; }

.PHONY: all deps configure build run test clean

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD) --log-level=WARNING -DCMAKE_RULE_MESSAGES=OFF $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory -s $(QUIET)

# Without ARGS, the embedded default: the user backend, a 64 MiB scratch disk
# (kept in build/run/ between runs), the console on the terminal, and conet0
# on an unprivileged transport, a UNIX datagram socket (another guest joins
# with --net conet0=unix:OTHER.sock:$(RUN_DIR)/conet0.sock).
RUN_DIR := $(BUILD)/run
DEFAULT_ARGS := --disk cobd0=$(RUN_DIR)/scratch.img \
	--net conet0=unix:$(RUN_DIR)/conet0.sock --cmdline ip=10.0.2.15/24

run: configure
	@cmake --build $(BUILD) -j $(JOBS) --target coop coop-guest -- --no-print-directory -s $(QUIET)
	@mkdir -p $(RUN_DIR) && { [ -e $(RUN_DIR)/scratch.img ] || truncate -s 64M $(RUN_DIR)/scratch.img; }
	@$(BUILD)/bin/coop run $(if $(ARGS),$(ARGS),$(DEFAULT_ARGS))

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
