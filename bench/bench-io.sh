# bench/bench-io.sh - readers and writers against cat, zcat and gzip
# (sourced by bench/run.sh; see bench/lib.sh).
GZ="$OUT/access-$BENCH_LINES.log.gz"
if [ ! -s "$GZ" ]; then
    gzip -6 -c "$LOG" >"$GZ.tmp" && mv "$GZ.tmp" "$GZ"
fi
RL="$top_builddir/bench/read-lines"

timeit t_zcat zcat "$GZ"
timeit t_rgz "$RL" "$GZ"
result "read gzip: ret_reader / zcat" \
    "$(ratio "$t_rgz" "$t_zcat")x ($(rate "$BENCH_LINES" "$t_rgz") lines/s)" \
    "<= 1.1x"

timeit t_rplain "$RL" "$LOG"
result "read plain: ret_reader / cat" \
    "$(ratio "$t_rplain" "$T_CAT")x ($(rate "$BENCH_LINES" "$t_rplain") lines/s)" \
    "-"

timeit t_gzip gzip -6 -c "$LOG"
timeit t_wgz "$RL" -z -o /dev/null "$LOG"
result "write gzip: ret_writer / gzip -6" "$(ratio "$t_wgz" "$t_gzip")x" "-"

timeit t_pipe sh -c "zcat '$GZ' | gzip -6"
timeit t_copy "$RL" -z -o /dev/null "$GZ"
result "copy .gz -> .gz: reader+writer / zcat|gzip -6" \
    "$(ratio "$t_copy" "$t_pipe")x" "<= 1.1x (anonymize floor)"
