#!/bin/sh
# anonymize-threads.sh - retention anonymize -j N: the same standard
# output, standard error and exit code as -j 1 on the fixtures and on a
# generated log (with --stats, --strict, anonip options, -o FILE.gz,
# -i on plain and gzip files); the workers exist; SIGHUP reopens -o
# between blocks without losing or doubling a line; SIGTERM during a
# threaded run leaves a prefix of the output; under taskset -c 0 the
# default is one thread. RET_TEST_LINES sets the size of the generated
# log (default 50000).
. "$top_srcdir/tests/cli/lib.sh"

GEN="$top_builddir/bench/gen-log"
[ -x "$GEN" ] || skip_all "bench/gen-log not built"
command -v mkfifo >/dev/null || skip_all "mkfifo not available"
N=${RET_TEST_LINES:-50000}

"$GEN" -n "$N" -s 11 -6 25 >"$T/gen.log"
# lines the parser rejects, NUL bytes, a long line, no final newline
{
    head -n 100 "$T/gen.log"
    printf 'garbage from 192.0.2.55 and 2001:db8::7\n'
    printf 'nul \000 198.51.100.9 \000\n'
    printf '203.0.113.7 - - [01/Dec/2026:10:00:00 +0000] "GET /%s HTTP/1.1" 200 5 "-" "a"\n' \
        "$(head -c 300000 /dev/zero | tr '\0' x)"
    tail -n +101 "$T/gen.log"
    printf 'last 192.0.2.200 without newline'
} >"$T/odd.log"
mv "$T/odd.log" "$T/gen.log"

# same DESCRIPTION ARGS...: -j 1 and -j 4 give the same stdout, stderr
# and exit code; the exit code of -j 1 is $want (default 0).
same() {
    _d=$1
    shift
    set +e
    "$RETENTION" anonymize -j 1 "$@" >"$T/o1" 2>"$T/e1" </dev/null
    _r1=$?
    "$RETENTION" anonymize -j 4 "$@" >"$T/o4" 2>"$T/e4" </dev/null
    _r4=$?
    set -e
    is "$_r1" "${want:-0}" "$_d: -j 1 exits ${want:-0}"
    is "$_r4" "$_r1" "$_d: -j 4 exits as -j 1"
    same_file "$T/o4" "$T/o1" "$_d: same output"
    same_file "$T/e4" "$T/e1" "$_d: same standard error"
}

# watch PID: kill -9 PID if it still runs in 60 s (a hang fails the
# test instead of stopping make check); unwatch after waiting for it.
watch() {
    (sleep 60; kill -9 "$1" 2>/dev/null) >/dev/null 2>&1 3>&- &
    watcher=$!
}
unwatch() {
    kill "$watcher" 2>/dev/null || true
    wait "$watcher" 2>/dev/null || true
}

# ---- the fixtures
for f in "$DATA"/format/*.log "$DATA"/anonymize/*.log; do
    same "$(basename "$f")" "$f"
done
for f in "$DATA"/anonymize/*.log; do
    same "$(basename "$f") --column 1" --column 1 "$f"
done
want=3 same "fixtures, --strict --stats" --strict --stats "$DATA"/format/*.log

# ---- the generated log
same "generated" "$T/gen.log"
like "$T/o1" '^[0-9.]+\.0 |:: ' "generated: masked"
same "generated --stats" --stats "$T/gen.log"
like "$T/e1" 'lines not parsed' "generated --stats: counts on stderr"
want=3 same "generated --strict" --strict "$T/gen.log"
want=3 same "generated -f combined --strict --stats" -f combined --strict --stats "$T/gen.log"
same "generated, anonip options --stats" --ipv4mask 8 --ipv6mask 80 --stats "$T/gen.log"
same "generated --regex" --regex '^(\S+) .* "([^"]*)"$' "$T/gen.log"
same "generated -m zero --scan-all" -m zero --scan-all "$T/gen.log"
same "generated and a fixture" --stats "$T/gen.log" "$DATA/format/w3c-advanced.log" "$T/gen.log"
set +e
"$RETENTION" anonymize -j 1 --stats <"$T/gen.log" >"$T/o1" 2>"$T/e1"
"$RETENTION" anonymize -j 4 --stats <"$T/gen.log" >"$T/o4" 2>"$T/e4"
set -e
same_file "$T/o4" "$T/o1" "standard input: same output"
same_file "$T/e4" "$T/e1" "standard input: same standard error"
cp "$T/o1" "$T/expected"

# ---- -o FILE.gz
rm -f "$T/a1.gz" "$T/a4.gz"
same "-o FILE.gz" --stats -o "$T/a1.gz" "$T/gen.log"
rm -f "$T/a1.gz" "$T/a4.gz"
"$RETENTION" anonymize -j 1 -o "$T/a1.gz" "$T/gen.log"
"$RETENTION" anonymize -j 4 -o "$T/a4.gz" "$T/gen.log"
check "-o FILE.gz, -j 4: a valid gzip file" gzip -t "$T/a4.gz"
gzip -dc "$T/a1.gz" >"$T/a1"
gzip -dc "$T/a4.gz" >"$T/a4"
same_file "$T/a4" "$T/a1" "-o FILE.gz: the same lines"
same_file "$T/a4" "$T/expected" "-o FILE.gz: the lines of standard output"

# ---- --in-place, plain and gzip
for ext in "" .gz; do
    for j in 1 4; do
        if [ -n "$ext" ]; then gzip -c "$T/gen.log" >"$T/i$j.log.gz"; else cp "$T/gen.log" "$T/i$j.log"; fi
    done
    set +e
    "$RETENTION" anonymize -j 1 --stats -i "$T/i1.log$ext" 2>"$T/e1"
    _r1=$?
    "$RETENTION" anonymize -j 4 --stats -i "$T/i4.log$ext" 2>"$T/e4"
    _r4=$?
    set -e
    is "$_r4 $_r1" "0 0" "-i$ext: both exit 0"
    sed "s|i4.log|i1.log|g" "$T/e4" >"$T/e4n"
    same_file "$T/e4n" "$T/e1" "-i$ext: same standard error"
    if [ -n "$ext" ]; then
        check "-i$ext, -j 4: a valid gzip file" gzip -t "$T/i4.log.gz"
        gzip -dc "$T/i4.log.gz" >"$T/i4"
        gzip -dc "$T/i1.log.gz" >"$T/i1"
    else
        cp "$T/i4.log" "$T/i4"
        cp "$T/i1.log" "$T/i1"
    fi
    same_file "$T/i4" "$T/i1" "-i$ext: the same file"
    same_file "$T/i4" "$T/expected" "-i$ext: the lines of standard output"
done

# ---- -j is an option, and the workers exist
"$RETENTION" anonymize --help >"$T/help"
like "$T/help" '-j, --threads N' "--help lists -j, --threads"
run 2 anonymize -j 0 "$T/gen.log"
like "$T/err" 'threads' "-j 0 refused"

# Feed the log through a FIFO that stays open: the run waits for input
# with its workers started.
mkfifo "$T/fifo"
(cat "$T/gen.log"; printf '\n'; sleep 30) >"$T/fifo" &
feeder=$!
"$RETENTION" anonymize -j 4 -o "$T/term.log" <"$T/fifo" 2>"$T/term.err" &
pid=$!
watch "$pid"
_w=0
while [ "$(ls /proc/$pid/task 2>/dev/null | wc -l)" -lt 5 ] && [ "$_w" -lt 1000 ]; do
    _w=$((_w + 1))
    sleep 0.01
done
tasks=$(ls /proc/$pid/task 2>/dev/null | wc -l)
if [ -d /proc/self/task ]; then
    check "-j 4: four workers beside the main thread ($tasks threads)" test "$tasks" -ge 5
else
    ok 0 "# SKIP no /proc/PID/task"
fi
# let it take what it can, then SIGTERM (not --line-buffered: the
# default action, which the kernel may deliver in the middle of a large
# write(2)) must leave a prefix of the output
_w=0
while [ "$(wc -c <"$T/term.log")" -lt 1000000 ] && [ "$_w" -lt 1000 ]; do
    _w=$((_w + 1))
    sleep 0.01
done
kill -TERM "$pid"
set +e
wait "$pid"
set -e
unwatch
kill "$feeder" 2>/dev/null || true
wait "$feeder" 2>/dev/null || true
size=$(wc -c <"$T/term.log" | tr -d ' ')
check "SIGTERM: lines were written before it ($size bytes)" test "$size" -gt 0
head -c "$size" "$T/expected" >"$T/prefix"
same_file "$T/term.log" "$T/prefix" "SIGTERM: what is written is the start of the output"

# ---- the default counts the processors the process may run on: under
# taskset -c 0 no worker is started
if command -v taskset >/dev/null 2>&1 && [ -d /proc/self/task ] &&
    taskset -c 0 true 2>/dev/null; then
    rm -f "$T/fifo"
    mkfifo "$T/fifo"
    (cat "$T/gen.log"; sleep 30) >"$T/fifo" &
    feeder=$!
    taskset -c 0 "$RETENTION" anonymize -o "$T/one.log" <"$T/fifo" 2>/dev/null &
    pid=$!
    watch "$pid"
    _w=0
    while [ "$(wc -c <"$T/one.log" 2>/dev/null || echo 0)" -lt 1000000 ] &&
        [ "$_w" -lt 1000 ]; do
        _w=$((_w + 1))
        sleep 0.01
    done
    tasks=$(ls /proc/$pid/task 2>/dev/null | wc -l)
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unwatch
    kill "$feeder" 2>/dev/null || true
    wait "$feeder" 2>/dev/null || true
    is "$tasks" 1 "taskset -c 0: one thread by default"
else
    ok 1 "# SKIP no taskset or /proc/PID/task"
fi

# ---- SIGHUP: -o is reopened between blocks; no line lost or doubled
rm -f "$T/fifo" "$T/h.log" "$T/h.log.1"
mkfifo "$T/fifo"
head -n $((N / 2)) "$T/gen.log" >"$T/h1"
tail -n +$((N / 2 + 1)) "$T/gen.log" >"$T/h2"
exec 3<>"$T/fifo"
"$RETENTION" anonymize -j 4 -o "$T/h.log" <"$T/fifo" 2>"$T/h.err" 3>&- &
pid=$!
watch "$pid"
cat "$T/h1" >&3
_w=0
while [ "$(wc -c <"$T/h.log" 2>/dev/null || echo 0)" -lt 1000000 ] && [ "$_w" -lt 1000 ]; do
    _w=$((_w + 1))
    sleep 0.01
done
mv "$T/h.log" "$T/h.log.1"
kill -HUP "$pid"
sleep 0.1
cat "$T/h2" >&3
exec 3>&-
set +e
wait "$pid"
rc=$?
set -e
unwatch
is "$rc" 0 "SIGHUP: exit 0"
check "SIGHUP: the reopened file has lines" test -s "$T/h.log"
cat "$T/h.log.1" "$T/h.log" >"$T/h.all"
same_file "$T/h.all" "$T/expected" "SIGHUP: both files hold every line once, in order"
grep -v 'lines could not be parsed' "$T/h.err" >"$T/h.other" || true
check "SIGHUP: nothing on standard error but the unparsed summary" test ! -s "$T/h.other"

# ---- --line-buffered stays line by line: SIGTERM flushes and exits 0
rm -f "$T/fifo"
mkfifo "$T/fifo"
exec 3<>"$T/fifo"
"$RETENTION" anonymize -j 4 --line-buffered -o "$T/lb.log" <"$T/fifo" 2>"$T/lb.err" 3>&- &
pid=$!
watch "$pid"
head -n 10 "$T/gen.log" >&3
_w=0
while [ "$(wc -l <"$T/lb.log" 2>/dev/null || echo 0)" -lt 10 ] && [ "$_w" -lt 1000 ]; do
    _w=$((_w + 1))
    sleep 0.01
done
is "$(wc -l <"$T/lb.log" | tr -d ' ')" 10 "--line-buffered -j 4: each line written at once"
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
unwatch
exec 3>&-
is "$rc" 0 "--line-buffered -j 4: SIGTERM exits 0"
head -n 10 "$T/expected" >"$T/lb.expected"
same_file "$T/lb.log" "$T/lb.expected" "--line-buffered -j 4: the lines"

done_testing
