# bench-stats.sh - statistics ingest + JSON report against GoAccess
# (-o json, one thread each), time and peak memory. Sourced by run.sh.

timeit t_stats sh -c "rm -f '$OUT/stats.db' '$OUT/stats.db-wal' '$OUT/stats.db-shm'
'$RETENTION' stats ingest -d '$OUT/stats.db' -f combined '$LOG' &&
'$RETENTION' stats report -d '$OUT/stats.db' -F json -o '$OUT/stats.json'"
rm -f "$OUT/stats.db" "$OUT/stats.db-wal" "$OUT/stats.db-shm"
peak_kb m_ingest "$RETENTION" stats ingest -d "$OUT/stats.db" -f combined "$LOG"
peak_kb m_report "$RETENTION" stats report -d "$OUT/stats.db" -F json -o "$OUT/stats.json"
m_stats=$m_ingest
case "$m_report" in nan) ;; *) [ "$m_report" -gt "$m_stats" ] && m_stats=$m_report ;; esac
result "stats ingest + json report" "$(rate "$BENCH_LINES" "$t_stats") lines/s, ${m_stats} KiB peak" "-"

# memory grows with distinct keys per day, not with lines: a log of a
# quarter of the lines over the same days needs about as much
if [ "$BENCH_LINES" -ge 40000 ]; then
    "$GEN" -n $((BENCH_LINES / 4)) >"$OUT/stats-quarter.log"
    rm -f "$OUT/q.db" "$OUT/q.db-wal" "$OUT/q.db-shm"
    peak_kb m_quarter "$RETENTION" stats ingest -d "$OUT/q.db" -f combined "$OUT/stats-quarter.log"
    result "stats memory, 1/4 of the lines" "${m_quarter} KiB vs ${m_ingest} KiB" "about equal (O(keys per day))"
    rm -f "$OUT/stats-quarter.log" "$OUT/q.db" "$OUT/q.db-wal" "$OUT/q.db-shm"
fi

if have goaccess; then
    BENCH_REPEAT=1 timeit t_ga goaccess "$LOG" --log-format=COMBINED -o "$OUT/ga.json"
    peak_kb m_ga goaccess "$LOG" --log-format=COMBINED -o "$OUT/ga.json"
    result "goaccess -o json" "$(rate "$BENCH_LINES" "$t_ga") lines/s, ${m_ga} KiB peak" "-"
    result "stats vs goaccess: throughput" "$(ratio "$t_ga" "$t_stats")x" ">= 20x"
    result "stats vs goaccess: peak memory" "$(ratio "$m_stats" "$m_ga") of it" "<= 0.25"
else
    result "goaccess" "not installed (apt-get install goaccess)" "-"
fi
rm -f "$OUT/stats.db" "$OUT/stats.db-wal" "$OUT/stats.db-shm" "$OUT/ga.json"
