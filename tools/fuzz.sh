#!/usr/bin/env bash
# libFuzzer run of the codec and protocol parsers, and of the whole per-connection input
# path of a real worker without TLS (connection); targets and corpora in fuzz/.
#   tools/fuzz.sh                        every target, FUZZ_SECONDS (30) each; as root on Debian
#   FUZZ_SECONDS=300 tools/fuzz.sh       longer
#   tools/fuzz.sh bvlc_decode ws_session just those targets
# Steps: install clang-14 + libFuzzer runtime if missing; configure build-fuzz (clang,
# ASan+UBSan, -Dfuzz=true); build the fuzz targets and the project's libraries with
# clang++-14; replay the seed corpora and fuzz/regressions/ (meson test --suite fuzz);
# fuzz each target for FUZZ_SECONDS on a temporary copy of its corpus (the repository's
# corpus is never written). Exit 1 on any crash, leak, timeout or sanitizer report; the
# reproducer is kept under $FUZZ_WORK/<target>/artifacts/ (printed).
# Environment: FUZZ_SECONDS (30), FUZZ_BUILD_DIR (build-fuzz), FUZZ_JOBS=N fuzzes each
# target with N processes (libFuzzer -fork=N; default one), FUZZ_WORK (default: a fresh
# temp dir, removed after a clean run), FUZZ_KEEP=1 keeps it (grown corpora, logs),
# FUZZ_BUILD_ALL=1 builds everything (load tool, unit tests, benches too) with clang
# (default: the fuzz targets, the layer libraries bsc_* and bschub),
# FUZZ_SKIP_SETUP=1 skips tools/setup.sh (the project's Debian dependencies).
set -uo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS=${FUZZ_SECONDS:-30}
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}
ALL_TARGETS=(bvlc_decode option_list http_upgrade ws_session connection client_hello bacnet_apdu
             device ticket_open admin_command)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")

die() { echo "tools/fuzz.sh: $*" >&2; exit 1; }

for t in "${targets[@]}"; do
  [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || die "unknown target '$t' (have: ${ALL_TARGETS[*]})"
done
[[ "$FUZZ_SECONDS" =~ ^[0-9]+$ ]] && [ "$FUZZ_SECONDS" -gt 0 ] || die "FUZZ_SECONDS must be > 0"

# ---- toolchain ---------------------------------------------------------------------
need_pkgs=()
command -v clang++-14 >/dev/null 2>&1 || need_pkgs+=(clang-14)
dpkg-query -W -f='${Status}' libclang-rt-14-dev 2>/dev/null | grep -q 'install ok installed' ||
  need_pkgs+=(libclang-rt-14-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing ${need_pkgs[*]}: run as root or install them"
  echo "== installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need_pkgs[@]}" ||
    { apt-get -o DPkg::Lock::Timeout=600 update &&
      apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "${need_pkgs[@]}"; } ||
    die "apt-get install ${need_pkgs[*]} failed"
fi
# The project's own build dependencies (mbedTLS, llhttp, wslay, libuv, ...).
if [ -x tools/setup.sh ] && [ "$(id -u)" -eq 0 ] && [ "${FUZZ_SKIP_SETUP:-0}" != 1 ]; then
  tools/setup.sh >/dev/null || die "tools/setup.sh failed"
fi

# ---- build -------------------------------------------------------------------------
if [ ! -f "$BUILD/build.ninja" ]; then
  echo "== meson setup $BUILD"
  CC=clang-14 CXX=clang++-14 meson setup "$BUILD" -Dfuzz=true \
    -Db_sanitize=address,undefined -Db_lundef=false --buildtype=debugoptimized ||
    die "meson setup $BUILD failed"
fi
grep -q "clang++-14" "$BUILD/build.ninja" 2>/dev/null ||
  die "$BUILD was not configured with clang++-14; remove it and rerun"
# An existing dir keeps its settings; make sure the fuzz ones are on.
opts=$(meson introspect "$BUILD" --buildoptions 2>/dev/null | /usr/bin/python3 -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(sys.stdin)}
print(o.get("fuzz"), o.get("b_sanitize"), o.get("b_lundef"))')
if [ "$opts" != "True address,undefined False" ]; then
  meson configure "$BUILD" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
    >/dev/null || die "meson configure $BUILD failed"
fi

echo "== build (clang++-14, ASan+UBSan)"
if [ "${FUZZ_BUILD_ALL:-0}" = 1 ]; then
  ninja -C "$BUILD" || die "build failed"
else
  # The fuzz targets, plus the project's libraries and the hub itself (all of src/) as a
  # clang++-14 compile check.
  meson compile -C "$BUILD" fuzz-targets bsc_util bsc_codec bsc_net bsc_core bsc_ops bsc_app \
    bschub ||
    die "build failed"
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}

echo "== replay of fuzz/corpus and fuzz/regressions"
suite_args=()
for t in "${targets[@]}"; do suite_args+=("fuzz-$t"); done
meson test -C "$BUILD" --no-rebuild --print-errorlogs "${suite_args[@]}" ||
  die "a seed or regression input fails (see above)"

# ---- fuzz --------------------------------------------------------------------------
WORK=${FUZZ_WORK:-$(mktemp -d /tmp/bschub-fuzz.XXXXXX)}
mkdir -p "$WORK"
echo "== fuzzing ${FUZZ_SECONDS}s per target (work dir $WORK)"

declare -A dict=([bvlc_decode]=bvlc.dict [option_list]=bvlc.dict [http_upgrade]=http.dict
                 [ws_session]=ws.dict)
# Inputs up to this size (the http head limit is 8192, the WebSocket message cap 65536,
# an NPDU at most 1497 octets: 1476 APDU + 21 NPCI).
declare -A max_len=([bvlc_decode]=4096 [option_list]=1024 [http_upgrade]=10240
                    [ws_session]=70000 [connection]=16384 [client_hello]=17000
                    [bacnet_apdu]=1500 [device]=1500 [ticket_open]=4096
                    [admin_command]=5000)

failed=()
summary=()
for t in "${targets[@]}"; do
  exe="$BUILD/fuzz/${t}_fuzz"
  [ -x "$exe" ] || die "$exe not built"
  dir="$WORK/$t"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp fuzz/corpus/"$t"/* "$dir/corpus/" 2>/dev/null || true
  if [ -d fuzz/regressions/"$t" ]; then
    find fuzz/regressions/"$t" -type f ! -name '.*' ! -name 'README*' \
      -exec cp {} "$dir/corpus/" \;
  fi
  args=(-max_total_time="$FUZZ_SECONDS" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048
        -max_len="${max_len[$t]}" -artifact_prefix="$dir/artifacts/")
  [ -n "${dict[$t]:-}" ] && args+=(-dict="fuzz/${dict[$t]}")
  if [ "$t" = connection ]; then  # the whole path speaks all three: one merged dictionary
    cat fuzz/http.dict fuzz/ws.dict fuzz/bvlc.dict >"$dir/connection.dict"
    args+=(-dict="$dir/connection.dict")
  fi
  [ -n "${FUZZ_JOBS:-}" ] && args+=(-fork="$FUZZ_JOBS")
  echo "-- $t"
  start=$(date +%s)
  "$exe" "${args[@]}" "$dir/corpus" >"$dir/log" 2>&1
  rc=$?
  secs=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log" | tail -1)
  if [ -z "$execs" ]; then  # -fork mode prints no final stats: use its last status line
    last=$(grep -E '^#[0-9]+' "$dir/log" | tail -1)
    execs=$(sed -nE 's/^#([0-9]+).*/\1/p' <<<"$last")
    rate=$(sed -nE 's/.*exec\/s:? ([0-9]+).*/\1/p' <<<"$last")
  fi
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$dir/log" | tail -1)
  artifacts=$(find "$dir/artifacts" -type f | head -5)
  line=$(printf '%-13s %4ss  execs %-10s exec/s %-7s %s' "$t" "$secs" "${execs:-?}" \
    "${rate:-?}" "${cov:-}")
  if [ "$rc" -ne 0 ] || [ -n "$artifacts" ]; then
    failed+=("$t")
    line+="  FAILED (exit $rc)"
    echo "$line"
    # The report: from the first sanitizer/libFuzzer error line to its SUMMARY line.
    awk '/==[0-9]+== ?ERROR|runtime error|deadly signal|ERROR: libFuzzer/ {on=1}
         on {print; if (/^SUMMARY/) exit}' "$dir/log" | head -60
    for a in $artifacts; do echo "   reproducer: $a  (replay: $exe $a)"; done
    echo "   full log: $dir/log"
  else
    echo "$line"
  fi
  summary+=("$line")
done

echo "== summary (${FUZZ_SECONDS}s per target)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "tools/fuzz.sh: FAILED: ${failed[*]} (logs and reproducers in $WORK)" >&2
  exit 1
fi
[ "${FUZZ_KEEP:-0}" = 1 ] || [ -n "${FUZZ_WORK:-}" ] || rm -rf "$WORK"
echo "tools/fuzz.sh: all ${#targets[@]} target(s) clean"
