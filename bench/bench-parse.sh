# bench/bench-parse.sh - the record parser: `retention parse --check` on
# the combined log against cat and GoAccess's parse of the same file
# (sourced by bench/run.sh; see bench/lib.sh).

# one core: the parser is single-threaded, taskset keeps it honest
ONE=
if have taskset; then ONE="taskset -c 0"; fi

timeit t_pc $ONE "$RETENTION" parse --check -f combined "$LOG"
result "parse combined (parse --check -f combined)" \
    "$(rate "$BENCH_LINES" "$t_pc") lines/s, $(ratio "$t_pc" "$T_CAT")x cat" \
    ">= 2000000 lines/s"
# CPU seconds too: on a shared machine the wall time also counts waiting
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f '%U %S' -o "$OUT/parse.cpu" $ONE "$RETENTION" parse \
        --check -f combined "$LOG" >/dev/null 2>&1 || true
    t_cpu=$(awk '{print $1 + $2}' "$OUT/parse.cpu" | tail -1)
    result "parse combined, CPU time (user+sys)" \
        "$(rate "$BENCH_LINES" "$t_cpu") lines/s" ">= 2000000 lines/s"
fi

timeit t_pa $ONE "$RETENTION" parse --check "$LOG"
result "parse combined, format auto-detected" \
    "$(rate "$BENCH_LINES" "$t_pa") lines/s" ">= 2000000 lines/s"

GZ="$OUT/access-$BENCH_LINES.log.gz"
if [ ! -s "$GZ" ]; then
    gzip -6 -c "$LOG" >"$GZ.tmp" && mv "$GZ.tmp" "$GZ"
fi
timeit t_zc zcat "$GZ"
timeit t_pz $ONE "$RETENTION" parse --check -f combined "$GZ"
result "parse .gz / zcat alone" \
    "$(ratio "$t_pz" "$t_zc")x ($(rate "$BENCH_LINES" "$t_pz") lines/s)" \
    "<= 1.1x"

if have goaccess; then
    # GoAccess is slow: once is enough
    _rep=${BENCH_REPEAT:-3}
    BENCH_REPEAT=1
    timeit t_goa $ONE goaccess "$LOG" --log-format=COMBINED \
        --no-global-config -o "$OUT/goaccess.json"
    BENCH_REPEAT=$_rep
    result "parse: GoAccess -o json / retention" \
        "$(ratio "$t_goa" "$t_pc")x ($(rate "$BENCH_LINES" "$t_goa") lines/s)" \
        "retention faster"
else
    result "parse: GoAccess" "not installed (apt-get install goaccess)" "-"
fi
