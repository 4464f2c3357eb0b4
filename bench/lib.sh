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

# time_once VAR CMD...: one run of CMD (stdout to /dev/null unless
# redirected by the caller through sh -c); VAR keeps the best wall time in
# seconds so far (set VAR empty first). When TIMEIT_SETUP names a command,
# it runs before, untimed (e.g. to reset the input). A failing command
# sets VAR to nan and returns 1.
time_once() {
    _var=$1
    shift
    eval "_best=\${$_var:-}"
    [ "$_best" = nan ] && return 1
    ${TIMEIT_SETUP:+$TIMEIT_SETUP}
    _s=$(now)
    "$@" >/dev/null 2>"$OUT/timeit.err" || {
        echo "bench: command failed: $*" >&2
        sed 's/^/bench:   /' "$OUT/timeit.err" | head -5 >&2
        eval "$_var=nan"
        return 1
    }
    _e=$(now)
    _t=$(echo "$_e - $_s" | bc -l)
    if [ -z "$_best" ] || [ "$(echo "$_t < $_best" | bc -l)" = 1 ]; then
        eval "$_var=$_t"
    fi
}

# timeit VAR CMD...: the best of $BENCH_REPEAT runs (default 3) of CMD.
timeit() {
    _tv=$1
    shift
    eval "$_tv="
    _i=0
    while [ "$_i" -lt "${BENCH_REPEAT:-3}" ]; do
        time_once "$_tv" "$@" || return 0
        _i=$((_i + 1))
    done
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
