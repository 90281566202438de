# SPDX-License-Identifier: MIT
# The two commands of the README.  Everything real is in CMake; this file
# installs what is missing, configures build/ and calls cmake and ctest.
#   make run [ARGS="--exec 'echo hi'"]   build and boot the default guest
#   make test                            build and run the whole test suite
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# CI (CI=true in the environment) turns warnings into errors.
ifneq ($(CI),)
CMAKE_FLAGS += -DCOOP_WERROR=ON
endif

.PHONY: all deps build run test clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(BUILD) --log-level=WARNING $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory -s

run: build
	@$(BUILD)/bin/coop run $(ARGS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD)
