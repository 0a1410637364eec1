# The two commands of the README, plus benchmarks. Each one first makes sure the Debian packages
# are installed (scripts/install-deps.sh is idempotent), then drives CMake with the dev preset.
PRESET ?= dev
BUILD_DIR := build
JOBS ?= $(shell nproc)

.PHONY: all deps configure build run test bench asan clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD_DIR)/build.ninja: CMakeLists.txt CMakePresets.json | deps
	cmake --preset $(PRESET)

configure: deps
	cmake --preset $(PRESET)

build: configure
	cmake --build --preset $(PRESET) -j $(JOBS)

# Opens the console with its embedded gateway on the SQLite default store and the demo config.
run: build
	$(BUILD_DIR)/bin/archway $(ARGS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 300

bench: build
	bench/run-all.sh

# Sanitizer build and test run in build-asan/.
asan: deps
	cmake --preset asan-ubsan
	cmake --build --preset asan-ubsan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS) --timeout 600

clean:
	rm -rf $(BUILD_DIR) build-asan build-release
