#!/bin/sh
# bench/run.sh - `make bench`: our commands and their peers side by side,
# in one run, on inputs generated here. BENCH_LINES (default 1000000)
# scales the input; BENCH_REPEAT (default 3) the repetitions (best kept).
set -eu
: "${RETENTION:?}" "${GEN:?}"
here=$(cd "$(dirname "$0")" && pwd)
# In a build tree with shared libraries, $RETENTION is libtool's wrapper
# script, which costs a shell start (about 10 ms) at every run: time the
# program itself, as it is installed, with the library beside it.
_lt="$(dirname "$RETENTION")/.libs/$(basename "$RETENTION")"
if [ -x "$_lt" ] && head -c 2 "$RETENTION" | grep -q '#!'; then
    RETENTION=$_lt
    LD_LIBRARY_PATH="$(dirname "$_lt")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export LD_LIBRARY_PATH
fi
. "$here/lib.sh"
OUT=${BENCH_OUT:-${top_builddir:-.}/bench/out}
mkdir -p "$OUT"
BENCH_LINES=${BENCH_LINES:-1000000}
LOG="$OUT/access-$BENCH_LINES.log"
if [ ! -s "$LOG" ]; then
    echo "bench: generating $BENCH_LINES lines of combined log..." >&2
    "$GEN" -n "$BENCH_LINES" >"$LOG.tmp" && mv "$LOG.tmp" "$LOG"
fi
LOG_BYTES=$(wc -c <"$LOG")
export RETENTION GEN OUT LOG LOG_BYTES BENCH_LINES

echo "retention $("$RETENTION" --version | cut -d' ' -f2) benchmarks, $(nproc) cores, $BENCH_LINES lines ($((LOG_BYTES / 1048576)) MiB)"
timeit t_cat cat "$LOG"
result "floor: cat" "$(ratio "$LOG_BYTES" "$t_cat" | cut -d. -f1) B/s" "-"
T_CAT=$t_cat
export T_CAT

for part in "$here"/bench-*.sh; do
    [ -f "$part" ] || continue
    echo "== $(basename "$part" .sh | sed 's/^bench-//')"
    . "$part"
done
