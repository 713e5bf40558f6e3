#!/bin/sh
# Runs a libFuzzer target once over every input file in the given directories (seed corpus,
# saved reproducers) without fuzzing; exits non-zero on any crash, leak or sanitizer report.
#   fuzz/run_inputs.sh build-fuzz/fuzz/bvlc_decode_fuzz fuzz/corpus/bvlc_decode fuzz/regressions/bvlc_decode
# Files whose names start with '.' or 'README' are skipped; a directory that does not exist
# is skipped too (not every target has regressions), but finding no input at all is an error
# (a moved corpus or a wrong path must not pass as a clean replay).
set -eu
target=$1
shift
: "${ASAN_OPTIONS:=detect_leaks=1}"
: "${UBSAN_OPTIONS:=print_stacktrace=1:halt_on_error=1}"
export ASAN_OPTIONS UBSAN_OPTIONS
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for dir in "$@"; do
  [ -d "$dir" ] || continue
  find "$dir" -type f ! -name '.*' ! -name 'README*' | sort >>"$tmp"
done
count=$(wc -l <"$tmp")
if [ "$count" -eq 0 ]; then
  echo "run_inputs.sh: no inputs to replay for $(basename "$target") in: $*" >&2
  exit 1
fi
echo "running $(basename "$target") over $count input(s)"
# libFuzzer runs each file argument once (no mutation). Batches keep argv short.
status=0
xargs -d '\n' -n 200 "$target" -runs=0 <"$tmp" || status=$?
exit "$status"
