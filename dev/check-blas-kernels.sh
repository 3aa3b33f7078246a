#!/usr/bin/env bash
# Runs the plugin's CPU-independent bit-exact tests once per OpenBLAS GEMM kernel this CPU can run, by hand.
#
# ND4J's OpenBLAS picks its GEMM kernel per CPU (Haswell/Zen on AVX2, SkylakeX on AVX-512 Intel, and on AVX-512 AMD
# when nothing forces it). The golden hashes must not depend on that choice; this script checks it on one machine by
# forcing each kernel with OPENBLAS_CORETYPE. Tests, CI and poms never set OPENBLAS_CORETYPE: only this manual check.
#
# The last run also switches off the FMA/AVX variants of glibc's math functions (GLIBC_TUNABLES), which ND4J's
# element-wise ops call (adam_updater's powf), as on a CPU without FMA.
#
# Usage: dev/check-blas-kernels.sh            the bit-exact golden tests (about 1 min per kernel)
#        dev/check-blas-kernels.sh --all      the whole plugin test suite (about 6 min per kernel)
#        JAVA_HOME=/usr/lib/jvm/temurin-25-jdk-amd64 dev/check-blas-kernels.sh    the same on another JDK
# Prints one line per kernel: "KERNEL <name> tests=N failures=F errors=E skipped=S -> PASS|FAIL"; exits 1 if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

TESTS="GoldenBitsTest,GoldenAveragingBitsTest"
if [[ "${1:-}" == "--all" ]]; then
    TESTS=""
fi

kernels=(Haswell)
if grep -qw avx512f /proc/cpuinfo; then
    kernels+=(SkylakeX)
fi
kernels+=(own-choice)  # OPENBLAS_CORETYPE unset: the kernel OpenBLAS picks for this CPU
kernels+=(Haswell-glibc-sse2) # Haswell, and glibc's math functions without their FMA/AVX variants (as on older CPUs)

mvn -B -ntp -q -o -pl dl4j-sr-plugin test-compile >/dev/null || mvn -B -ntp -q -pl dl4j-sr-plugin test-compile || exit 1

status=0
summary=()
for k in "${kernels[@]}"; do
    log="dl4j-sr-plugin/target/blas-kernel-$k.log"
    args=(-B -ntp -o -pl dl4j-sr-plugin surefire:test)
    if [[ -n "$TESTS" ]]; then
        args+=("-Dtest=$TESTS" -Dsurefire.failIfNoSpecifiedTests=false)
    fi
    echo "== OpenBLAS kernel $k: mvn ${args[*]} (log: $log)"
    if [[ "$k" == "own-choice" ]]; then
        env -u OPENBLAS_CORETYPE mvn "${args[@]}" >"$log" 2>&1
    elif [[ "$k" == "Haswell-glibc-sse2" ]]; then
        OPENBLAS_CORETYPE=Haswell GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX,-AVX2,-FMA,-FMA4,-AVX512F \
            mvn "${args[@]}" >"$log" 2>&1
    else
        OPENBLAS_CORETYPE="$k" mvn "${args[@]}" >"$log" 2>&1
    fi
    rc=$?
    # Surefire's closing "Tests run:" line (the totals of the run).
    totals=$(grep -E "^\[(INFO|WARNING|ERROR)\] Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$" "$log" \
        | tail -1 | sed -E 's/.*Tests run: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+), Skipped: ([0-9]+)/tests=\1 failures=\2 errors=\3 skipped=\4/')
    if [[ $rc -eq 0 ]]; then verdict=PASS; else verdict=FAIL; status=1; fi
    summary+=("KERNEL $k ${totals:-tests=?} -> $verdict")
    if [[ $rc -ne 0 ]]; then
        grep -E "FAIL|expected:" "$log" | head -20
    fi
done
echo "java: $("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | head -1); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
printf '%s\n' "${summary[@]}"
exit $status
