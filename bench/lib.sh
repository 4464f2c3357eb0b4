# bench/lib.sh - helpers for the benchmark parts (bench/bench-*.sh).
#
# Each part is sourced by bench/run.sh with these set:
#   RETENTION   the built program
#   GEN         the log generator (bench/gen-log)
#   OUT         a scratch directory
#   LOG         a generated combined log of $BENCH_LINES lines (1M default)
#   LOG_BYTES   its size
# and prints its results with `result`.

# now: seconds since the epoch with nanoseconds.
now() { date +%s.%N; }

# timeit VAR CMD...: runs CMD (stdout to /dev/null unless redirected by
# the caller through sh -c), stores the wall time in seconds in VAR. The
# best of $BENCH_REPEAT runs (default 3) is kept. When TIMEIT_SETUP names
# a command, it runs before each run, untimed (e.g. to reset the input).
timeit() {
    _var=$1
    shift
    _best=
    _i=0
    while [ "$_i" -lt "${BENCH_REPEAT:-3}" ]; do
        ${TIMEIT_SETUP:+$TIMEIT_SETUP}
        _s=$(now)
        "$@" >/dev/null 2>"$OUT/timeit.err" || {
            echo "bench: command failed: $*" >&2
            sed 's/^/bench:   /' "$OUT/timeit.err" | head -5 >&2
            eval "$_var=nan"
            return 0
        }
        _e=$(now)
        _t=$(echo "$_e - $_s" | bc -l)
        if [ -z "$_best" ] || [ "$(echo "$_t < $_best" | bc -l)" = 1 ]; then
            _best=$_t
        fi
        _i=$((_i + 1))
    done
    eval "$_var=$_best"
}

# peak_kb VAR CMD...: peak resident memory of CMD in KiB (GNU time).
peak_kb() {
    _var=$1
    shift
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -f %M -o "$OUT/peak" "$@" >/dev/null 2>&1 || true
        eval "$_var=$(tail -1 "$OUT/peak")"
    else
        eval "$_var=nan"
    fi
}

# ratio A B: A / B with two decimals ("nan" when either is missing).
ratio() {
    case "$1$2" in *nan*) echo nan; return ;; esac
    echo "scale=2; $1 / $2" | bc -l
}

# rate LINES SECONDS: lines per second, rounded.
rate() {
    case "$2" in nan) echo nan; return ;; esac
    echo "scale=0; $1 / $2" | bc -l
}

# result WORK MEASURE TARGET: one line of the report.
result() {
    printf '%-44s %-40s target %s\n' "$1" "$2" "$3"
}

# have CMD: is CMD installed?
have() { command -v "$1" >/dev/null 2>&1; }
