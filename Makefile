# Thin wrapper: the real build is CMake (see CMakeLists.txt).
# `make demo` and `make test` work on a fresh Debian 12 machine as root.

BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)

# Debian packages the build, the tests and the demo need.
PACKAGES := cmake ninja-build g++ gcc make pkg-config \
            libunwind-dev libdw-dev libelf-dev libiberty-dev \
            libfmt-dev nlohmann-json3-dev libcli11-dev \
            libgtest-dev libgmock-dev googletest libbenchmark-dev \
            libc6-dbg python3 git file chromium liblsan0
# Only `make bench` needs the other peers we compare against (the test
# suite runs the harness with LeakSanitizer, which g++ brings anyway).
BENCH_PACKAGES := heaptrack valgrind

.PHONY: all deps build test demo bench install clean

all: build

# Installs what is missing, non-interactively; nothing to do on a warm machine.
deps:
	@missing=$$(for p in $(PACKAGES) $(EXTRA_PACKAGES); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	    echo "nantrack: installing missing packages:" $$missing; \
	    [ "$$(id -u)" = 0 ] || { echo "nantrack: run as root (or install them):" $$missing >&2; exit 1; }; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 300

# Runs the bundled leaky program under nantrack: the text report on the
# terminal, the HTML report in $(BUILD_DIR)/demo/report.html.
demo: build
	@mkdir -p $(BUILD_DIR)/demo
	$(BUILD_DIR)/bin/nantrack run --html $(BUILD_DIR)/demo/report.html \
	    --json $(BUILD_DIR)/demo/report.json -- $(BUILD_DIR)/tests/programs/leaky_demo
	@echo "nantrack: HTML report: $(BUILD_DIR)/demo/report.html"

bench:
	@$(MAKE) --no-print-directory build EXTRA_PACKAGES="$(BENCH_PACKAGES)"
	@./bench/run-bench $(BUILD_DIR)

install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD_DIR)
