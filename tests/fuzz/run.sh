#!/usr/bin/env bash
# Builds the libFuzzer targets (cmake --preset fuzz) and runs each one for a bounded time.
# Fails when a fuzzer crashes, leaks, times out or runs out of memory; prints each fuzzer's
# execution count. Usage: tests/fuzz/run.sh [fuzzer...]
#   KD_FUZZ_SECONDS   seconds per fuzzer (default 60)
#   KD_FUZZ_JOBS      build parallelism (default: nproc)
#   KD_FUZZ_NO_BUILD  set to 1 to skip configure/build
# New inputs the fuzzers find go to build/fuzz/corpus/<target> (the seed corpus in
# tests/fuzz/corpus stays unchanged); a crash reproducer is kept in build/fuzz/artifacts/.
set -uo pipefail

cd "$(dirname "$0")/../.."
ROOT=$PWD
SECONDS_EACH=${KD_FUZZ_SECONDS:-60}
JOBS=${KD_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 2)}
BUILD=$ROOT/build/fuzz
ALL=(fuzz_wire fuzz_logformat fuzz_metrics fuzz_metadata)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi

declare -A MAXLEN=([fuzz_wire]=65536 [fuzz_logformat]=65536 [fuzz_metrics]=16384
                   [fuzz_metadata]=16384)

if [ "${KD_FUZZ_NO_BUILD:-0}" != 1 ]; then
    [ -f "$BUILD/build.ninja" ] || cmake --preset fuzz || exit 1
    cmake --build "$BUILD" -j "$JOBS" --target "${TARGETS[@]}" || exit 1
fi

export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export QT_QPA_PLATFORM=offscreen

failed=()
summary=()
for t in "${TARGETS[@]}"; do
    exe=$BUILD/tests/fuzz/$t
    [ -x "$exe" ] || { echo "run.sh: $exe is missing" >&2; failed+=("$t"); continue; }
    work=$BUILD/corpus/$t
    artifacts=$BUILD/artifacts/$t
    log=$BUILD/$t.log
    mkdir -p "$work" "$artifacts"
    dict=()
    [ -f "$ROOT/tests/fuzz/$t.dict" ] && dict=(-dict="$ROOT/tests/fuzz/$t.dict")
    inputs=("$work" "$ROOT/tests/fuzz/corpus/$t")
    [ -d "$ROOT/tests/fuzz/crashes/$t" ] && inputs+=("$ROOT/tests/fuzz/crashes/$t")
    echo "=== $t: ${SECONDS_EACH}s"
    "$exe" -max_total_time="$SECONDS_EACH" -max_len="${MAXLEN[$t]:-65536}" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" "${dict[@]}" \
        "${inputs[@]}" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ $rc -ne 0 ]; then
        failed+=("$t")
        echo "--- $t FAILED (exit $rc); log: $log; reproducer(s):"
        ls -1 "$artifacts"
        grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz property|qFatal' "$log"
        tail -n 40 "$log"
        summary+=("$(printf '%-16s FAILED  executions %s' "$t" "${execs:-?}")")
    else
        summary+=("$(printf '%-16s ok      executions %-10s %s exec/s  %s' "$t" "${execs:-?}" "${speed:-?}" "$cov")")
    fi
done

echo "=== fuzz summary (${SECONDS_EACH}s each)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "FAILED: ${failed[*]}"
    exit 1
fi
