# KaggleDeck: two commands for a fresh Debian 12 machine.
#   make demo  - install missing packages, build, open the dashboard on the built-in simulator
#   make test  - install missing packages, build, run the whole test suite (ctest), then the
#                benchmarks in an optimised build (they print figures; they never fail on speed)
# Other targets: deps, build, sim, bench, test-asan, fuzz, package, format, clean.

PRESET ?= dev
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# Debian packages needed to build, test and run. Keep in step with README.md.
PACKAGES := cmake ninja-build g++ pkg-config \
	qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev libqt6sql6-sqlite libqt6svg6 \
	libgl-dev libcurl4-openssl-dev nlohmann-json3-dev libcpp-httplib-dev \
	libssl-dev zlib1g-dev libbrotli-dev \
	qt6-qpa-plugins xvfb xauth x11-utils imagemagick \
	desktop-file-utils appstream dpkg-dev clang libclang-rt-14-dev

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build demo test test-asan fuzz bench sim package format clean

all: build

deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	else echo "All build packages are installed."; fi

$(BUILD_DIR)/build.ninja:
	cmake --preset $(PRESET)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	$(BUILD_DIR)/app/kaggledeck --demo

sim: build
	$(BUILD_DIR)/app/kaggle-sim/kaggle-sim --port 7777

BENCHES := bench_status bench_log_ingest bench_monitor bench_memory bench_window

test: build
	cd $(BUILD_DIR) && ctest -j $(JOBS) -LE bench --output-on-failure --timeout 900
	$(MAKE) --no-print-directory bench

# Benchmarks run from the release preset: figures from a debug build would mislead.
bench: deps
	@[ -f build/release/build.ninja ] || cmake --preset release
	cmake --build build/release -j $(JOBS) --target $(BENCHES)
	cd build/release && ctest -L bench --output-on-failure -V --timeout 1800

# The unit, integration and GUI suites under AddressSanitizer + UBSan (GCC).
test-asan: deps
	@[ -f build/asan/build.ninja ] || cmake --preset asan
	cmake --build build/asan -j $(JOBS)
	ctest --preset asan -j $(JOBS) --timeout 900

# libFuzzer targets (clang, ASan+UBSan); each runs KD_FUZZ_SECONDS (default 60) seconds and
# prints its executions. Fails on a crash, a leak or a hang.
fuzz: deps
	KD_FUZZ_JOBS=$(JOBS) tests/fuzz/run.sh

# Debian package (CPack) from the release build: build/release/kaggledeck_<version>-1_<arch>.deb
package: deps
	@[ -f build/release/build.ninja ] || cmake --preset release
	cmake --build build/release -j $(JOBS) --target kaggledeck kaggledeck-cli kaggle-sim
	cd build/release && cpack -G DEB

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf build
