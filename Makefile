# KaggleDeck: two commands for a fresh Debian 12 machine.
#   make demo  - install missing packages, build, open the dashboard on the built-in simulator
#   make test  - install missing packages, build, run the whole test suite (ctest)
# Other targets: deps, build, sim, bench, format, clean.

PRESET ?= dev
BUILD_DIR := build/$(PRESET)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# Debian packages needed to build, test and run. Keep in step with README.md.
PACKAGES := cmake ninja-build g++ pkg-config \
	qt6-base-dev qt6-base-dev-tools qt6-charts-dev qt6-svg-dev libqt6sql6-sqlite libqt6svg6 \
	libgl-dev libcurl4-openssl-dev nlohmann-json3-dev libcpp-httplib-dev \
	libssl-dev zlib1g-dev libbrotli-dev \
	qt6-qpa-plugins xvfb xauth x11-utils imagemagick

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build demo test bench sim format clean

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

test: build
	cd $(BUILD_DIR) && QT_QPA_PLATFORM=offscreen ctest -j $(JOBS) --output-on-failure --timeout 900

bench: build
	cd $(BUILD_DIR) && ctest -L bench --output-on-failure -V

format:
	git ls-files '*.cpp' '*.h' | xargs clang-format -i

clean:
	rm -rf build
