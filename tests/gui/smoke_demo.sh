#!/usr/bin/env bash
# Smoke test: `kaggledeck --demo` under Xvfb maps a window, survives 20 s and exits 0.
# Usage: smoke_demo.sh <kaggledeck binary> [screenshot dir]
set -u

app=${1:?usage: smoke_demo.sh <kaggledeck> [screenshot dir]}
shots=${2:-.}

if ! command -v xvfb-run >/dev/null 2>&1; then
    echo "SKIP: xvfb-run is not installed (apt-get install xvfb xauth)"
    exit 77
fi
if ! command -v xwininfo >/dev/null 2>&1; then
    echo "SKIP: xwininfo is not installed (apt-get install x11-utils)"
    exit 77
fi
mkdir -p "$shots"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Settings and data of this run stay in the scratch directory, not the user's home.
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data" XDG_RUNTIME_DIR="$work/run"
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
unset QT_QPA_PLATFORM # ctest sets offscreen for the other GUI tests; this one needs X

# Everything runs inside one xvfb-run session so the checks see the app's display.
xvfb-run -a -s "-screen 0 1366x768x24" bash -c '
    app=$1; shots=$2; work=$3
    "$app" --demo --quit-after 20 >"$work/app.log" 2>&1 &
    pid=$!
    mapped=0
    for _ in $(seq 1 150); do
        # A viewable top-level whose title names KaggleDeck (Qt also creates a 1x1 leader
        # window with the same name that is never mapped).
        for id in $(xwininfo -root -tree 2>/dev/null | awk "/KaggleDeck/ {print \$1}"); do
            if xwininfo -id "$id" 2>/dev/null | grep -q "Map State: IsViewable"; then
                mapped=1
            fi
        done
        if [ "$mapped" = 1 ]; then
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if [ "$mapped" != 1 ]; then
        echo "FAIL: no KaggleDeck window was mapped"
        kill "$pid" 2>/dev/null
        wait "$pid"
        exit 1
    fi
    echo "window mapped:"
    xwininfo -root -tree | grep "KaggleDeck" | head -3
    # Let the simulated runs move before the picture.
    sleep 8
    if command -v import >/dev/null 2>&1; then
        import -window root "$shots/smoke-demo.png" && echo "screenshot: $shots/smoke-demo.png"
    fi
    wait "$pid"
    rc=$?
    if [ "$rc" != 0 ]; then
        echo "FAIL: kaggledeck exited with $rc"
        tail -n 30 "$work/app.log"
        exit 1
    fi
    echo "kaggledeck --demo exited cleanly"
' smoke "$app" "$shots" "$work"
