# Thin wrapper: the real build is CMake (see CMakeLists.txt).
# `make demo` and `make test` work on a fresh Debian 12 machine as root.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)

# Debian packages the build, the tests and the demo need.
PACKAGES := cmake ninja-build g++ gcc make pkg-config \
            libunwind-dev libdw-dev libelf-dev \
            libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev \
            libgtest-dev libgmock-dev googletest libbenchmark-dev \
            libc6-dbg python3 git file
# Only `make bench` needs the peers we compare against.
BENCH_PACKAGES := heaptrack valgrind hyperfine

.PHONY: all deps build test demo bench install clean

all: build

deps:
	@./scripts/install-packages $(PACKAGES)

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 300

demo: build
	@./scripts/demo $(BUILD_DIR)

bench: build
	@./scripts/install-packages $(BENCH_PACKAGES)
	@./bench/run-bench $(BUILD_DIR)

install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD_DIR)
