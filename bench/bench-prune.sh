# bench/bench-prune.sh - prune a rotated set of access logs where a third
# is expired, against the equivalent `zcat | awk (time filter) | gzip`
# pipeline on the same files. Sourced by bench/run.sh.
#
# BENCH_PRUNE_MB (default 1024) is the uncompressed size of the set: nine
# files of 15 days each (135 days ending now), the two newest plain, the
# others gzip -6. With a 90 day limit judged 5 days after the newest
# record, 50 of the 135 days are expired: three files wholly (deleted),
# one in part (rewritten); five are within the limit (read, not touched).
# The set is generated once into $OUT.

BENCH_PRUNE_MB=${BENCH_PRUNE_MB:-1024}
pset="$OUT/prune-set-$BENCH_PRUNE_MB"
pwork="$OUT/prune-work"
pend=1796126400 # 2026-12-01T12:00:00Z, the newest record
pnow=2026-12-06T12:00:00Z
# 90 days before pnow, as the pipeline's awk compares it.
pcut_key=20260907120000

if [ ! -f "$pset/.done" ]; then
    echo "bench: generating a ${BENCH_PRUNE_MB} MB rotated set..." >&2
    rm -rf "$pset"
    mkdir -p "$pset"
    # gen-log writes about 202 bytes a line.
    plines=$((BENCH_PRUNE_MB * 1048576 / 202))
    per=$((plines / 9))
    "$GEN" -n $((per * 9)) -d 135 -e "$pend" -s 11 |
        (cd "$pset" && split -d -a 1 -l "$per" - part.)
    [ -s "$pset/part.8" ] || { echo "bench: prune: generation failed" >&2; return 0; }
    # part.0 is the oldest: access.log.8.gz ... part.8 is access.log
    for i in 0 1 2 3 4 5 6 7 8; do
        n=$((8 - i))
        case $n in
        0) mv "$pset/part.$i" "$pset/access.log" ;;
        1) mv "$pset/part.$i" "$pset/access.log.1" ;;
        *) gzip -6 -c "$pset/part.$i" >"$pset/access.log.$n.gz" &&
            rm "$pset/part.$i" ;;
        esac
    done
    touch -d '2026-12-01 12:00:00 UTC' "$pset"/access.log*
    touch "$pset/.done"
fi
pset_bytes=$(cat "$pset"/access.log* | wc -c)

# The pipeline: each file through the time filter, recompressed like it was.
prune_pipeline() {
    mkdir -p "$pwork.out"
    for f in "$pwork"/access.log*; do
        b=$(basename "$f")
        filter='BEGIN { split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", m, " ")
                        for (i = 1; i <= 12; i++) mon[m[i]] = sprintf("%02d", i) }
                { t = substr($4, 2)
                  k = substr(t, 8, 4) mon[substr(t, 4, 3)] substr(t, 1, 2) substr(t, 13, 2) substr(t, 16, 2) substr(t, 19, 2)
                  if (k >= cut) print }'
        case $b in
        *.gz) gzip -dc "$f" | awk -v cut="$pcut_key" "$filter" | gzip -6 >"$pwork.out/$b" ;;
        *) awk -v cut="$pcut_key" "$filter" "$f" >"$pwork.out/$b" ;;
        esac
    done
}

prune_ours() {
    "$RETENTION" prune --now "$pnow" --schedule none --max-age 90d \
        -f combined "$pwork"/access.log*
}

# Each timed run works on a fresh copy of the set (copying is not timed).
reset_work() {
    rm -rf "$pwork" "$pwork.out"
    cp -a "$pset" "$pwork"
}

TIMEIT_SETUP=reset_work
timeit t_pipe prune_pipeline
timeit t_prune prune_ours
TIMEIT_SETUP=

# What the run did, and its memory.
reset_work
"$RETENTION" -v prune --dry-run --now "$pnow" --schedule none --max-age 90d \
    -f combined "$pwork"/access.log* >"$OUT/prune.plan" 2>&1 || true
# Constant memory: the peak on the whole set is that of one file.
peak_kb m_one "$RETENTION" prune --now "$pnow" --schedule none \
    --max-age 90d -f combined "$pwork"/access.log.5.gz
reset_work
peak_kb m_all "$RETENTION" prune --now "$pnow" --schedule none \
    --max-age 90d -f combined "$pwork"/access.log*
echo "  set: about $BENCH_PRUNE_MB MiB of log, $((pset_bytes / 1048576)) MiB on disk in 9 files; plan:"
sed 's/^/    /' "$OUT/prune.plan"
result "prune a rotated set (1/3 expired)" \
    "$(printf '%.2f' "$t_prune") s; pipeline $(printf '%.2f' "$t_pipe") s; $(ratio "$t_prune" "$t_pipe")x" \
    "<= 1.2x pipeline"
result "prune: peak memory, whole set / one file" "${m_all} KiB / ${m_one} KiB" "constant"
rm -rf "$pwork" "$pwork.out"
