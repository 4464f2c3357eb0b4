# bench/bench-decide.sh - ret_decide() speed (sourced by bench/run.sh; see
# bench/lib.sh). DESIGN.md: <= 50 ns a call, no allocation (the latter
# is proven by tests/unit/decide-t, which wraps malloc).
DB="$top_builddir/bench/decide-bench"
if [ -x "$DB" ]; then
    _ns=$("$DB" "${BENCH_DECIDE_CALLS:-20000000}" | cut -d' ' -f1)
    result "ret_decide()" "$_ns ns/call" "<= 50 ns/call"
else
    result "ret_decide()" "not built" "<= 50 ns/call"
fi
