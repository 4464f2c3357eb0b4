# bench/bench-anonymize.sh - retention anonymize against anonip and cat
# (plain combined log) and against `zcat | gzip -6` (.gz -> .gz in place).
# Sourced by bench/run.sh (see bench/lib.sh for the helpers).

# anonip is slow (about 76k lines/s): it runs on a slice of
# BENCH_ANONIP_LINES lines (default 100000) and its rate is scaled.
A_LINES=${BENCH_ANONIP_LINES:-100000}
[ "$A_LINES" -gt "$BENCH_LINES" ] && A_LINES=$BENCH_LINES
head -n "$A_LINES" "$LOG" >"$OUT/anon-slice.log"

# The default command (worker threads: -j defaults to the online CPUs, at
# most 8), the anonip options, and both with --threads 1. Their ratios to
# cat compare runs made under the same load of the host: each round runs
# cat and each command once, and the best of BENCH_ANON_REPEAT rounds
# (default 5) is kept for each.
t_cat_a= t_anon= t_anon_col= t_anon_1= t_anon_col_1=
a_round=0
while [ "$a_round" -lt "${BENCH_ANON_REPEAT:-5}" ]; do
    # each command run as cat is, without a shell before it (time_once
    # sends standard output to /dev/null)
    time_once t_cat_a cat "$LOG"
    time_once t_anon "$RETENTION" anonymize "$LOG"
    time_once t_anon_col "$RETENTION" anonymize --ipv4mask 8 --ipv6mask 80 "$LOG"
    time_once t_anon_1 "$RETENTION" anonymize --threads 1 "$LOG"
    time_once t_anon_col_1 "$RETENTION" anonymize --threads 1 --ipv4mask 8 --ipv6mask 80 "$LOG"
    a_round=$((a_round + 1))
done
result "cat (in the same rounds)" "$t_cat_a s" "-"
result "anonymize plain (auto format)" "$(rate "$BENCH_LINES" "$t_anon") lines/s, $t_anon s" "-"
result "  --threads 1" "$(rate "$BENCH_LINES" "$t_anon_1") lines/s, $t_anon_1 s" "-"
result "anonymize plain (anonip options)" "$(rate "$BENCH_LINES" "$t_anon_col") lines/s, $t_anon_col s" "-"
result "  --threads 1" "$(rate "$BENCH_LINES" "$t_anon_col_1") lines/s, $t_anon_col_1 s" "-"
result "anonymize / cat time" "$(ratio "$t_anon" "$t_cat_a")x (anonip options $(ratio "$t_anon_col" "$t_cat_a")x)" "<= 4x"
# the target is the command's as it runs by default (on every core);
# one worker thread is shown for comparison
result "  --threads 1" "$(ratio "$t_anon_1" "$t_cat_a")x (anonip options $(ratio "$t_anon_col_1" "$t_cat_a")x)" "- (one core)"

if have anonip; then
    BENCH_REPEAT_SAVE=${BENCH_REPEAT:-3}
    BENCH_REPEAT=1
    timeit t_anonip sh -c 'anonip --ipv4mask 8 --ipv6mask 80 <"$1" >/dev/null 2>&1' sh "$OUT/anon-slice.log"
    BENCH_REPEAT=$BENCH_REPEAT_SAVE
    anonip_rate=$(rate "$A_LINES" "$t_anonip")
    ours_rate=$(rate "$BENCH_LINES" "$t_anon_col")
    result "anonip (on $A_LINES lines, scaled)" "$anonip_rate lines/s" "-"
    result "anonymize / anonip throughput" "$(ratio "$ours_rate" "$anonip_rate")x (auto format $(ratio "$(rate "$BENCH_LINES" "$t_anon")" "$anonip_rate")x)" ">= 50x"
    result "  --threads 1" "$(ratio "$(rate "$BENCH_LINES" "$t_anon_col_1")" "$anonip_rate")x (auto format $(ratio "$(rate "$BENCH_LINES" "$t_anon_1")" "$anonip_rate")x)" ">= 50x"
else
    result "anonymize / anonip throughput" "anonip not installed (apt-get install anonip)" ">= 50x"
fi

peak_kb m_anon "$RETENTION" anonymize "$LOG"
head -n $((BENCH_LINES / 10)) "$LOG" >"$OUT/anon-tenth.log"
peak_kb m_anon_small "$RETENTION" anonymize "$OUT/anon-tenth.log"
result "anonymize peak memory" "$m_anon KiB ($m_anon_small KiB on a tenth)" "constant"

# .gz -> .gz in place against the pipeline, both from the same copy.
[ -s "$OUT/access.log.gz" ] || gzip -6 -c "$LOG" >"$OUT/access.log.gz"
timeit t_pipe sh -c 'cp "$1" "$2" && zcat "$2" | gzip -6 >"$2.out" && rm -f "$2.out"' \
    sh "$OUT/access.log.gz" "$OUT/pipe.log.gz"
timeit t_inplace sh -c 'cp "$1" "$2" && "$3" anonymize -i "$2"' \
    sh "$OUT/access.log.gz" "$OUT/inplace.log.gz" "$RETENTION"
# A gzip output runs on one thread by default (the compressing thread is
# the slowest stage); the workers, for comparison:
a_cores=$(nproc 2>/dev/null || echo 2)
timeit t_inplace_n sh -c 'cp "$1" "$2" && "$3" anonymize --threads "$4" -i "$2"' \
    sh "$OUT/access.log.gz" "$OUT/inplace.log.gz" "$RETENTION" "$a_cores"
result "anonymize .gz -> .gz in place" "$t_inplace s vs zcat|gzip -6 $t_pipe s: $(ratio "$t_inplace" "$t_pipe")x" "<= 1.1x"
result "  --threads $a_cores" "$t_inplace_n s: $(ratio "$t_inplace_n" "$t_pipe")x" "<= 1.1x"
rm -f "$OUT/pipe.log.gz" "$OUT/inplace.log.gz" "$OUT/anon-slice.log" "$OUT/anon-tenth.log"
