#!/bin/sh
# atomic.sh - kill -9 an atomic rewrite at random moments: the target is
# always either the whole old file or the whole new one, byte for byte.
# RET_TEST_TRIALS (default 50) sets the number of kills.
. "$top_srcdir/tests/cli/lib.sh"

W="$top_builddir/tests/unit/atomic-writer"
[ -x "$W" ] || skip_all "tests/unit/atomic-writer not built"
TRIALS=${RET_TEST_TRIALS:-50}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

awk 'BEGIN { for (i = 1; i <= 4000; i++)
    printf "192.0.2.%d - - [01/Dec/2026:10:00:00 +0000] \"GET /old/%d HTTP/1.1\" 200 %d\n", i % 250, i, i }' >"$T/old"
awk 'BEGIN { for (i = 1; i <= 60000; i++)
    printf "192.0.2.0 - - [01/Dec/2026:11:00:00 +0000] \"GET /new/page-%d?q=%d HTTP/1.1\" 200 %d \"-\" \"Mozilla/5.0\"\n", i, i * 7, i * 13 }' >"$T/new"

# Reference outputs of complete runs, plain and gzip; and their duration.
cp "$T/old" "$T/ref"
start=$(now_ms)
"$W" "$T/ref" "$T/new"
plain_ms=$(($(now_ms) - start))
same_file "$T/ref" "$T/new" "a complete run writes the new content"
cp "$T/old" "$T/ref.gz"
start=$(now_ms)
"$W" -z "$T/ref.gz" "$T/new"
gzip_ms=$(($(now_ms) - start))
if command -v gzip >/dev/null; then
    gzip -dc "$T/ref.gz" >"$T/ref.dec"
    same_file "$T/ref.dec" "$T/new" "a complete gzip run decompresses to the new content"
fi
echo "# complete runs: plain ${plain_ms} ms, gzip ${gzip_ms} ms"

# Kill moments: uniform over 0 .. 1.3 times a complete run (some after
# the end, to see the new file too).
awk -v n="$TRIALS" -v p="$plain_ms" -v z="$gzip_ms" -v seed="${RET_TEST_SEED:-$$}" 'BEGIN {
    srand(seed)
    for (i = 0; i < n; i++) {
        d = (i % 2 ? z : p) + 2
        printf "%d %.4f\n", i % 2, rand() * d * 1.3 / 1000
    }
}' >"$T/delays"

bad=0 old=0 new=0 trial=0
while read -r gz delay; do
    trial=$((trial + 1))
    if [ "$gz" = 1 ]; then tgt="$T/target.gz"; ref="$T/ref.gz"; zopt=-z
    else tgt="$T/target"; ref="$T/ref"; zopt=; fi
    cp "$T/old" "$tgt"
    "$W" $zopt "$tgt" "$T/new" 2>"$T/werr" &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if cmp -s "$tgt" "$T/old"; then
        old=$((old + 1))
    elif cmp -s "$tgt" "$ref"; then
        new=$((new + 1))
    else
        bad=$((bad + 1))
        echo "# trial $trial (gzip $gz, kill after ${delay}s): target is neither old nor new ($(wc -c <"$tgt") bytes)"
        cp "$tgt" "$T/bad.$trial"
    fi
    rm -f "$T"/.target.retention-* "$T"/.target.gz.retention-*
done <"$T/delays"
echo "# $trial kills: $old left the old file, $new the new one, $bad neither"
is "$bad" 0 "kill -9 at $trial random moments: always the whole old or the whole new file"
is $((old + new)) "$TRIALS" "every trial was checked"

# A crash before the commit leaves the old file and a hidden temporary
# file that globs such as target* do not match.
rm -f "$T/target.gz"
cp "$T/old" "$T/target"
"$W" -k "$T/target" "$T/new"
same_file "$T/target" "$T/old" "a crash before the commit leaves the old file"
ls -a "$T" | grep '^\.target\.retention-[0-9a-f]\{6\}$' >"$T/tmps" || true
is "$(grep -c . "$T/tmps")" 1 "and one temporary file .target.retention-XXXXXX"
ls "$T"/target* >"$T/glob"
is "$(cat "$T/glob")" "$T/target" "target* does not list the temporary file"

done_testing
