#!/bin/sh
# anonymize-signals.sh - piped logging: --line-buffered writes each line
# at once; SIGHUP reopens -o (logrotate) and loses or duplicates no line;
# SIGTERM finishes the output and exits 0.
. "$top_srcdir/tests/cli/lib.sh"

command -v mkfifo >/dev/null || skip_all "mkfifo not available"
N=${RET_TEST_LINES:-3000}

line() { # line I: a combined line with a sequence number in the path
    printf '192.0.2.%d - - [01/Dec/2026:10:00:00 +0000] "GET /seq/%d HTTP/1.1" 200 5 "-" "t"\n' $(($1 % 250 + 1)) "$1"
}

# wait_for FILE PATTERN: until FILE holds PATTERN (at most 10 s)
wait_for() {
    _w=0
    while ! grep -q -- "$2" "$1" 2>/dev/null; do
        _w=$((_w + 1))
        [ "$_w" -gt 1000 ] && return 1
        sleep 0.01
    done
    return 0
}

# ---- every line is written at once
mkfifo "$T/fifo"
"$RETENTION" anonymize --line-buffered -o "$T/live.log" <"$T/fifo" 2>"$T/live.err" &
pid=$!
exec 3>"$T/fifo"
line 1 >&3
wait_for "$T/live.log" '/seq/1 '
ok $? "--line-buffered: the first line is in the file before input ends"
# ---- SIGTERM while waiting for input: exit 0, everything there
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
exec 3>&-
is "$rc" 0 "SIGTERM: exit 0"
is "$(grep -c seq "$T/live.log")" 1 "SIGTERM: the line is kept"
is "$(wc -c <"$T/live.err" | tr -d ' ')" 0 "SIGTERM: nothing on stderr"

# ---- SIGTERM with a gzip output: the stream is finished properly
rm -f "$T/fifo"
mkfifo "$T/fifo"
"$RETENTION" anonymize --line-buffered -o "$T/live.log.gz" <"$T/fifo" &
pid=$!
exec 3>"$T/fifo"
line 1 >&3
line 2 >&3
sleep 0.3
kill -TERM "$pid"
line 3 >&3 || true
set +e
wait "$pid"
rc=$?
set -e
exec 3>&- || true
is "$rc" 0 "SIGTERM (gzip): exit 0"
check "SIGTERM (gzip): a complete gzip file" gzip -t "$T/live.log.gz"
check "SIGTERM (gzip): the lines read are there" test "$(gzip -dc "$T/live.log.gz" | grep -c seq)" -ge 2

# ---- SIGHUP: rotate while lines flow; none lost, none doubled
rm -f "$T/fifo"
mkfifo "$T/fifo"
"$RETENTION" anonymize --line-buffered -o "$T/a.log" <"$T/fifo" &
pid=$!
(
    i=1
    while [ "$i" -le "$N" ]; do
        line "$i"
        # paced, so that the rotations below happen while lines flow
        [ $((i % 50)) -eq 0 ] && sleep 0.01
        i=$((i + 1))
    done
) >"$T/fifo" &
writer=$!
r=0
while [ "$r" -lt 5 ]; do
    sleep 0.05
    if [ -f "$T/a.log" ]; then
        mv "$T/a.log" "$T/a.log.$r"
        kill -HUP "$pid" 2>/dev/null || true
    fi
    r=$((r + 1))
done
wait "$writer"
set +e
wait "$pid"
rc=$?
set -e
is "$rc" 0 "exit 0 at the end of input"
cat "$T"/a.log.* "$T/a.log" 2>/dev/null | sed -n 's|.*/seq/\([0-9]*\) .*|\1|p' >"$T/seqs"
is "$(wc -l <"$T/seqs" | tr -d ' ')" "$N" "SIGHUP: no line lost or doubled ($N lines)"
is "$(sort -n "$T/seqs" | uniq | wc -l | tr -d ' ')" "$N" "SIGHUP: each line once"
ls "$T"/a.log.* >/dev/null 2>&1
ok $? "SIGHUP: the output was reopened (rotated files exist)"
check "SIGHUP: a new file after the rotation" test -s "$T/a.log"
for f in "$T"/a.log.* "$T/a.log"; do
    sed -n 's|.*/seq/\([0-9]*\) .*|\1|p' "$f" >"$T/one"
    sort -n "$T/one" | cmp -s - "$T/one" || { ok 1 "lines in order in $(basename "$f")"; continue; }
    ok 0 "lines in order in $(basename "$f")"
done
if grep -q '^192\.0\.2\.[1-9]' "$T"/a.log*; then
    ok 1 "no client address in the rotated files"
else
    ok 0 "no client address in the rotated files"
fi

done_testing
