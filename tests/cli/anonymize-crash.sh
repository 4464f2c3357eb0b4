#!/bin/sh
# anonymize-crash.sh - kill -9 during --in-place at random moments: the
# file is always either the whole original or the whole result, for
# plain and gzip files. RET_TEST_TRIALS trials (default 50); the seed is
# printed and may be set with RET_TEST_SEED.
. "$top_srcdir/tests/cli/lib.sh"

GEN="$top_builddir/bench/gen-log"
TRIALS=${RET_TEST_TRIALS:-50}
SEED=${RET_TEST_SEED:-$$}
echo "# $TRIALS trials, seed $SEED (set RET_TEST_SEED to repeat)"

"$GEN" -n 60000 -s 3 -6 20 >"$T/orig.log"
gzip -1 -c "$T/orig.log" >"$T/orig.log.gz"
run 0 anonymize "$T/orig.log"
cp "$T/out" "$T/result.log"
cmp -s "$T/orig.log" "$T/result.log" && ok 1 "the result differs from the original" ||
    ok 0 "the result differs from the original"
# How long one rewrite takes, to spread the kills over it.
cp "$T/orig.log.gz" "$T/f.log.gz"
s=$(date +%s%N)
"$RETENTION" anonymize -i "$T/f.log.gz"
e=$(date +%s%N)
span=$(((e - s) / 1000 * 3 / 2 + 2000)) # microseconds, gzip is slower
echo "# one rewrite takes about $((span / 1000)) ms"

i=0
bad=0
old=0
new=0
while [ "$i" -lt "$TRIALS" ]; do
    if [ $((i % 2)) -eq 0 ]; then f="$T/f.log"; src="$T/orig.log"; else f="$T/f.log.gz"; src="$T/orig.log.gz"; fi
    cp "$src" "$f"
    delay=$(awk -v s="$SEED" -v i="$i" -v span="$span" \
        'BEGIN { srand(s + i * 7919); printf "%.6f", rand() * span / 1000000 }')
    "$RETENTION" anonymize -i "$f" &
    pid=$!
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [ "$f" = "$T/f.log" ]; then
        cp "$f" "$T/now.log"
    else
        gzip -dc "$f" >"$T/now.log" 2>/dev/null || : >"$T/now.log"
    fi
    if cmp -s "$T/now.log" "$T/orig.log"; then
        old=$((old + 1))
    elif cmp -s "$T/now.log" "$T/result.log"; then
        new=$((new + 1))
    else
        bad=$((bad + 1))
        echo "# trial $i (delay $delay s): neither the old nor the new file"
    fi
    rm -f "$T"/.f.log*.ret-* 2>/dev/null || true
    i=$((i + 1))
done
echo "# $old times the old file, $new times the new one"
is "$bad" 0 "kill -9 at $TRIALS random moments: always the whole old or new file"
check "some kills hit before the commit" test "$old" -gt 0
# the temporary files of killed runs are removed by the next run
cp "$T/orig.log" "$T/f.log"
"$RETENTION" anonymize -i "$T/f.log" &
pid=$!
sleep 0.01
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
run 0 anonymize -i "$T/f.log"
same_file "$T/f.log" "$T/result.log" "a later run completes the rewrite"

done_testing
