#!/bin/sh
# prune-crash.sh - kill -9 at random moments during a rewrite: the file
# is always either the old one or the complete new one, never a partial
# file. RET_TEST_TRIALS (default 50) sets the number of trials,
# RET_TEST_LINES (default 40000) the size of the log.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/cli/prune-lib.sh"

GEN="$top_builddir/bench/gen-log"
[ -x "$GEN" ] || skip_all "bench/gen-log not built"
TRIALS=${RET_TEST_TRIALS:-50}
LINES=${RET_TEST_LINES:-40000}
L="$T/logs"
mkdir -p "$L"
# 120 days of log: the oldest quarter is expired, the rest straddles.
ADHOC="--now $NOW --schedule none --max-age 90d --anonymize-after 7d"

"$GEN" -n "$LINES" -d 120 -e "$NOW_S" -s 7 >"$T/orig.log"
gzip -c "$T/orig.log" >"$T/orig.log.gz"

# The expected results, from a run that is not disturbed.
for f in orig.log orig.log.gz; do
    cp "$T/$f" "$L/$f"
    old "$L/$f"
done
t0=$(date +%s%N)
run 0 prune $ADHOC "$L/orig.log" "$L/orig.log.gz"
t1=$(date +%s%N)
mv "$L/orig.log" "$T/want.log"
mv "$L/orig.log.gz" "$T/want.log.gz"
check "the undisturbed run changed the plain file" sh -c \
    "! cmp -s '$T/orig.log' '$T/want.log'"
check "the undisturbed run changed the gzip file" sh -c \
    "! cmp -s '$T/orig.log.gz' '$T/want.log.gz'"
ms=$(( (t1 - t0) / 1000000 ))
[ "$ms" -gt 0 ] || ms=1
diag_ms=$ms

rnd() { od -An -N2 -tu2 /dev/urandom | tr -d ' '; }

old_seen=0
new_seen=0
bad=0
i=0
while [ "$i" -lt "$TRIALS" ]; do
    i=$((i + 1))
    cp "$T/orig.log" "$L/orig.log"
    cp "$T/orig.log.gz" "$L/orig.log.gz"
    old "$L/orig.log" "$L/orig.log.gz"
    # A delay from 0 to 1.2 times the undisturbed run.
    delay=$(( $(rnd) * ms * 12 / 10 / 65535 ))
    "$RETENTION" prune $ADHOC "$L/orig.log" "$L/orig.log.gz" \
        >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    for f in orig.log orig.log.gz; do
        w=$(echo "$f" | sed 's/^orig/want/')
        if cmp -s "$L/$f" "$T/$f"; then
            old_seen=$((old_seen + 1))
        elif cmp -s "$L/$f" "$T/$w"; then
            new_seen=$((new_seen + 1))
        else
            bad=$((bad + 1))
            echo "# trial $i: $f is neither the old nor the new file (delay ${delay}ms)"
        fi
    done
    gzip -t "$L/orig.log.gz" 2>/dev/null || {
        bad=$((bad + 1))
        echo "# trial $i: orig.log.gz is not valid gzip"
    }
    # Temporary files a killed run leaves are its own dot files; the
    # next run removes them.
    ls -A "$L" | grep -v '^orig\.log\(\.gz\)\{0,1\}$' | grep -qv '^\.orig\.log' && {
        bad=$((bad + 1))
        echo "# trial $i: unexpected file in the log directory"
    }
done
echo "# $TRIALS trials of a ${diag_ms} ms run: $old_seen old, $new_seen new files"
is "$bad" 0 "kill -9 at random moments: never a partial file"

# The next run cleans up what a killed run left behind.
cp "$T/orig.log" "$L/orig.log"
old "$L/orig.log"
run 0 prune $ADHOC "$L/orig.log" "$L/orig.log.gz"
is "$(ls -A "$L" | grep -c '^\.' || true)" 0 "no temporary file is left after a full run"
same_file "$L/orig.log" "$T/want.log" "and the files are the expected ones"

done_testing
