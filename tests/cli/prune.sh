#!/bin/sh
# prune.sh - retention prune on log files: each record judged by its own
# time; expected file list and contents after each run, as logrotate's
# tests do it.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/cli/prune-lib.sh"

W="$T/w" # the whole tree the runs may touch; $T also holds out, err
L="$W/logs"
mkdir -p "$L"
ADHOC="--now $NOW --schedule none --max-age 90d"

# ---- boundary matrix: +-1 s around the limit --------------------------
cut=$((NOW_S - 90 * DAY))
{
    logline 192.0.2.1 $((cut - 1)) /minus1
    logline 192.0.2.2 $cut /exact
    logline 192.0.2.3 $((cut + 1)) /plus1
    logline 192.0.2.4 $((NOW_S - DAY)) /yesterday
} >"$L/b.log"
old "$L/b.log"
run 0 prune $ADHOC "$L/b.log"
is "$(cut -d' ' -f7 "$L/b.log" | tr '\n' ' ')" "/plus1 /yesterday " \
    "a record 90 days old or older is gone, one 1 s younger stays"
is "$(wc -c <"$T/out" | tr -d ' ')$(wc -c <"$T/err" | tr -d ' ')" 00 \
    "a successful run prints nothing"

# The same with the daily schedule: one day earlier, so that nothing
# outlives 90 days before the next daily run.
cut=$((NOW_S - 89 * DAY))
{
    logline 192.0.2.1 $((cut - 1)) /minus1
    logline 192.0.2.2 $cut /exact
    logline 192.0.2.3 $((cut + 1)) /plus1
} >"$L/d.log"
old "$L/d.log"
run 0 prune --now $NOW --max-age 90d "$L/d.log"
is "$(cut -d' ' -f7 "$L/d.log" | tr '\n' ' ')" "/plus1 " \
    "schedule daily (the default) acts one day early"
rm -f "$L/b.log" "$L/d.log"

# ---- across the end of summer time; TZ changes nothing ----------------
# 2026-10-25 01:00:00 UTC: Berlin goes from 03:00 +0200 back to 02:00 +0100.
dst=$(ep 2026-10-25T01:00:00Z)
now_dst=$(date -u -d "@$((dst + 90 * DAY))" +%Y-%m-%dT%H:%M:%SZ)
{
    logline 192.0.2.11 $((dst - 1)) /summer-last +0200
    logline 192.0.2.12 $dst /winter-first +0100
    logline 192.0.2.13 $((dst + 1)) /winter-second +0100
    logline 192.0.2.14 $((dst + 1800)) /winter-later +0100
} >"$L/dst.log"
old "$L/dst.log"
cp -p "$L/dst.log" "$L/dst2.log"
run 0 prune --now "$now_dst" --schedule none --max-age 90d "$L/dst.log"
TZ=Europe/Berlin
export TZ
run 0 prune --now "$now_dst" --schedule none --max-age 90d "$L/dst2.log"
unset TZ
is "$(cut -d' ' -f7 "$L/dst.log" | tr '\n' ' ')" "/winter-second /winter-later " \
    "across DST: the written offset decides, not the local clock"
same_file "$L/dst2.log" "$L/dst.log" "TZ=Europe/Berlin changes nothing"
rm -f "$L"/dst*.log

# ---- a rotated set mixing plain and gzip ------------------------------
mk_set() {
    rm -rf "$L"
    mkdir -p "$L"
    # live file: written just now, all records recent
    logline 198.51.100.1 $((NOW_S - 3600)) /live >"$L/access.log"
    # within the limit: untouched
    logline 198.51.100.2 $((NOW_S - 2 * DAY)) /recent >"$L/access.log.1"
    # straddling, plain
    {
        logline 203.0.113.3 $((NOW_S - 95 * DAY)) /expired-plain
        logline 198.51.100.3 $((NOW_S - 80 * DAY)) /kept-plain
        logline 203.0.113.4 $((NOW_S - 91 * DAY)) /expired-plain-2
    } >"$L/access.log.2"
    # straddling, gzip, unsorted
    {
        logline 198.51.100.5 $((NOW_S - 89 * DAY)) /kept-gz
        logline 203.0.113.5 $((NOW_S - 120 * DAY)) /expired-gz
        logline 198.51.100.6 $((NOW_S - 60 * DAY)) /kept-gz-2
    } | gzip >"$L/access.log.3.gz"
    # wholly expired, gzip and dated names
    logline 203.0.113.6 $((NOW_S - 100 * DAY)) /gone | gzip >"$L/access.log.4.gz"
    logline 203.0.113.7 $((NOW_S - 130 * DAY)) /gone >"$L/access.log-20260720"
    logline 203.0.113.8 $((NOW_S - 140 * DAY)) /gone | gzip \
        >"$L/access.log-20260710.gz"
    old "$L"/access.log.* "$L"/access.log-*
    chmod 0640 "$L/access.log.2" "$L/access.log.3.gz"
}
mk_set
before1=$(ino_mtime "$L/access.log.1")
mtime3=$(stat -c %Y "$L/access.log.3.gz")
run 0 prune $ADHOC "$L"/access.log*
is "$(cd "$L" && ls | tr '\n' ' ')" \
    "access.log access.log.1 access.log.2 access.log.3.gz " \
    "wholly expired files are deleted, the others stay"
is "$(ino_mtime "$L/access.log.1")" "$before1" \
    "a file wholly within the limit keeps its inode and mtime"
is "$(cut -d' ' -f7 "$L/access.log.2")" "/kept-plain" \
    "straddling plain file: only its expired lines are gone"
check "straddling gzip file is valid gzip" gzip -t "$L/access.log.3.gz"
is "$(content "$L/access.log.3.gz" | cut -d' ' -f7 | tr '\n' ' ')" \
    "/kept-gz /kept-gz-2 " "straddling gzip file: kept lines, in order"
is "$(head -c2 "$L/access.log.3.gz" | od -An -tx1 | tr -d ' ')" 1f8b \
    "a gzip file stays gzip"
is "$(stat -c %a "$L/access.log.2") $(stat -c %a "$L/access.log.3.gz")" \
    "640 640" "rewritten files keep their mode"
is "$(stat -c %Y "$L/access.log.3.gz")" "$mtime3" \
    "rewritten files keep their mtime"
# Deleted addresses are absent from every remaining byte.
found=$(for f in $(find "$T" -type f); do content "$f" 2>/dev/null || cat "$f"; done |
    grep -c '203\.0\.113\.' || true)
is "$found" 0 "no expired address remains anywhere under the test tree"

# A second run finds nothing to do and touches nothing.
sum=$(tree_sum "$L")
run 0 prune $ADHOC "$L"/access.log*
is "$(tree_sum "$L")" "$sum" "a second run changes nothing"

# ---- owner kept (as root) ----------------------------------------------
if [ "$(id -u)" = 0 ] && getent passwd nobody >/dev/null; then
    mk_set
    chown nobody "$L/access.log.2"
    run 0 prune $ADHOC "$L/access.log.2"
    is "$(stat -c %U "$L/access.log.2")" nobody "a rewritten file keeps its owner"
else
    ok 0 "# SKIP owner test needs root"
fi

# ---- dry run: zero writes, and the real run does what it printed ------
mk_set
sum=$(tree_sum "$W")
run 0 prune --dry-run $ADHOC "$L"/access.log*
cp "$T/out" "$T/plan"
is "$(tree_sum "$W")" "$sum" "--dry-run leaves the whole tree unchanged"
like "$T/plan" "^delete $L/access.log.4.gz: 1 lines" "the plan lists deletions"
like "$T/plan" "^rewrite $L/access.log.2: drop 2, anonymize 0, keep 1 of 3 lines" \
    "the plan lists the lines dropped per file"
unlike "$T/plan" "access.log.1" "the plan leaves out files with nothing due"
run 0 -v prune $ADHOC "$L"/access.log*
same_file "$T/out" "$T/plan" "the real run did exactly what the dry run printed"
run 0 prune --dry-run $ADHOC "$L"/access.log*
is "$(wc -c <"$T/out" | tr -d ' ')" 0 "after it the plan is empty"

# ---- staged anonymization ---------------------------------------------
rm -rf "$L" && mkdir -p "$L"
{
    logline 198.51.100.77 $((NOW_S - 10 * DAY)) /ten-days
    logline 2001:db8:1234:5678::9 $((NOW_S - 8 * DAY)) /v6
    logline 198.51.100.78 $((NOW_S - 2 * DAY)) /two-days
    logline 203.0.113.99 $((NOW_S - 100 * DAY)) /expired
} >"$L/a.log"
old "$L/a.log"
run 0 prune --dry-run $ADHOC --anonymize-after 7d "$L/a.log"
like "$T/out" "drop 1, anonymize 2, keep 3 of 4" "the plan counts due anonymizations"
run 0 prune $ADHOC --anonymize-after 7d "$L/a.log"
is "$(cut -d' ' -f1 "$L/a.log" | tr '\n' ' ')" \
    "198.51.100.0 2001:db8:1234:: 198.51.100.78 " \
    "due lines are anonymized (24/48), recent ones are not"
sum=$(tree_sum "$L")
run 0 prune $ADHOC --anonymize-after 7d "$L/a.log"
is "$(tree_sum "$L")" "$sum" "anonymized lines are not rewritten again"
unlike "$L/a.log" '198\.51\.100\.77|5678::9' "no full address of an anonymized line remains"

# ---- the live file: deferred, never truncated --------------------------
rm -rf "$L" && mkdir -p "$L"
{
    logline 203.0.113.50 $((NOW_S - 100 * DAY)) /expired
    logline 198.51.100.50 $((NOW_S - DAY)) /kept
} >"$L/live.log"
cp "$L/live.log" "$T/live.orig"
run 1 prune $ADHOC "$L/live.log"
like "$T/err" "live.log: live file .*rotate it" "a live file is reported as deferred"
same_file "$L/live.log" "$T/live.orig" "the live file is not touched"
run 1 prune --dry-run $ADHOC "$L/live.log"
like "$T/err" "rotate it" "the dry run says so too"
run 0 prune $ADHOC --live-age 0 "$L/live.log"
is "$(cut -d' ' -f7 "$L/live.log")" /kept "--live-age 0 prunes it"
logline 198.51.100.51 $((NOW_S - DAY)) /recent >"$L/fresh.log"
run 0 prune $ADHOC "$L/fresh.log"

# ---- lines without a time: kept and reported ---------------------------
rm -rf "$L" && mkdir -p "$L"
{
    logline 203.0.113.60 $((NOW_S - 100 * DAY)) /expired
    echo 'this line has no time at all'
    logline 198.51.100.60 $((NOW_S - DAY)) /kept
} >"$L/u.log"
old "$L/u.log"
run 0 prune $ADHOC "$L/u.log"
like "$T/err" "u.log: 1 line without a time kept" "untimed lines are reported"
is "$(wc -l <"$L/u.log" | tr -d ' ')" 2 "untimed lines are kept"
like "$L/u.log" "no time at all" "the untimed line is still there"
{
    logline 203.0.113.61 $((NOW_S - 100 * DAY)) /expired
    echo 'garbage only'
} >"$L/v.log"
old "$L/v.log"
run 0 prune $ADHOC "$L/v.log"
check "a file with an untimed line is not deleted" test -f "$L/v.log"
run 0 prune $ADHOC --untimed=delete "$L/u.log" "$L/v.log"
is "$(cut -d' ' -f7 "$L/u.log")" /kept "--untimed=delete drops them"
check "--untimed=delete: nothing left, file deleted" test ! -e "$L/v.log"

# ---- bad input: damaged gzip, CRLF, NUL bytes, no final newline ---------
rm -rf "$L" && mkdir -p "$L"
{
    logline 203.0.113.80 $((NOW_S - 100 * DAY)) /expired
    i=0
    while [ $i -lt 200 ]; do
        logline 198.51.100.80 $((NOW_S - DAY - i)) /kept-$i
        i=$((i + 1))
    done
} | gzip >"$T/full.gz"
head -c $(( $(wc -c <"$T/full.gz") - 30 )) "$T/full.gz" >"$L/cut.log.gz"
old "$L/cut.log.gz"
cp -p "$L/cut.log.gz" "$T/cut.orig"
run 1 prune $ADHOC "$L/cut.log.gz"
like "$T/err" "cut.log.gz" "a truncated gzip file is reported"
same_file "$L/cut.log.gz" "$T/cut.orig" "and left as it was"
{
    logline 203.0.113.81 $((NOW_S - 100 * DAY)) /expired | sed 's/$/\r/'
    logline 198.51.100.81 $((NOW_S - DAY)) /crlf | sed 's/$/\r/'
    printf 'nul \000 byte line\n'
    logline 198.51.100.82 $((NOW_S - DAY)) /last | tr -d '\n'
} >"$L/odd.log"
tail -n +2 "$L/odd.log" >"$T/odd.want"
old "$L/odd.log"
run 0 prune $ADHOC "$L/odd.log"
same_file "$L/odd.log" "$T/odd.want" \
    "CR, NUL and a missing final newline are kept byte for byte"

# ---- staged rules of a policy: addresses, then other fields -------------
rm -rf "$L" && mkdir -p "$L"
cat >"$T/fields.conf" <<EOF
policy {
    name "fields"
    controller "Test GmbH"
    version 2
    schedule none
    state $T/fstate
}
category web {
    files $L/f.log
    format combined
    anonymize client-ip after 7d prefix 16/32
    anonymize user, query, referrer, user-agent after 30d
    delete after 90d
}
EOF
chmod 0644 "$T/fields.conf"
fline() { # fline IP EPOCH
    _t=$(date -u -d "@$2" +%d/%b/%Y:%H:%M:%S)
    printf '%s - alice [%s +0000] "GET /p?id=4711 HTTP/1.1" 200 5 "https://ref.example/?q=x" "Agent/1.0"\n' \
        "$1" "$_t"
}
{
    fline 198.51.100.33 $((NOW_S - 40 * DAY))
    fline 198.51.100.34 $((NOW_S - 10 * DAY))
    fline 198.51.100.35 $((NOW_S - DAY))
} >"$L/f.log"
old "$L/f.log"
run 0 -c "$T/fields.conf" prune --dry-run --now $NOW
like "$T/out" "f.log: drop 0, anonymize 2, keep 3 of 3" "the plan counts both stages"
run 0 -c "$T/fields.conf" prune --now $NOW
is "$(sed -n 1p "$L/f.log" | cut -d' ' -f1-3,7,11-)" \
    '198.51.0.0 - - /p "-" "-"' "after 30 days: address (16 bits), user, query, referrer, agent"
is "$(sed -n 2p "$L/f.log" | cut -d' ' -f1-3,7,11-)" \
    '198.51.0.0 - alice /p?id=4711 "https://ref.example/?q=x" "Agent/1.0"' \
    "after 10 days: only the address (16 bits)"
is "$(sed -n 3p "$L/f.log" | cut -d' ' -f1)" 198.51.100.35 "after 1 day: nothing"
sum=$(tree_sum "$L")
run 0 -c "$T/fields.conf" prune --now $NOW
is "$(tree_sum "$L")" "$sum" "staged fields are not rewritten again"
run 0 -c "$T/fields.conf" audit --now $NOW

# ---- W3C: header lines stay with the records, go with the file ----------
rm -rf "$L" && mkdir -p "$L"
old_day=$(date -u -d "@$((NOW_S - 100 * DAY))" '+%Y-%m-%d %H:%M:%S')
new_day=$(date -u -d "@$((NOW_S - DAY))" '+%Y-%m-%d %H:%M:%S')
{
    echo '#Software: Microsoft Internet Information Services 10.0'
    echo '#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status'
    echo "$old_day 10.0.0.1 GET /old - 80 - 203.0.113.90 Mozilla 200"
    echo "$new_day 10.0.0.1 GET /new - 80 - 198.51.100.90 Mozilla 200"
} >"$L/u_ex1.log"
head -3 "$L/u_ex1.log" >"$L/u_ex2.log"
old "$L"/u_ex*.log
run 0 prune $ADHOC -f w3c "$L/u_ex1.log" "$L/u_ex2.log"
is "$(sed -n '1p;2p;$p' "$L/u_ex1.log" | cut -c1-12 | tr '\n' '|')" \
    "#Software: M|#Fields: dat|${new_day%% *} 1|" "W3C: the header lines are kept with the records"
check "W3C: a file left with only its header lines is deleted" test ! -e "$L/u_ex2.log"

# ---- names are taken literally, never globbed again --------------------
rm -rf "$L" && mkdir -p "$L"
logline 203.0.113.70 $((NOW_S - 100 * DAY)) /x >"$L/x1"
logline 198.51.100.70 $((NOW_S - DAY)) /star >"$L/x*"
old "$L/x1" "$L/x*"
run 0 prune $ADHOC "$L/x*"
check "only the file named 'x*' was looked at" test -f "$L/x1"
# A policy's glob finds both; each name found is used as it is.
logline 203.0.113.71 $((NOW_S - 100 * DAY)) /q >"$L/x[1]"
old "$L/x[1]"
cp -p "$L/x*" "$T/star.orig"
cat >"$T/glob.conf" <<EOF
policy {
    name "glob"
    controller "Test GmbH"
    version 1
    schedule none
    state $T/gstate
}
category web {
    files $L/x*
    delete after 90d
}
EOF
chmod 0644 "$T/glob.conf"
run 0 -v -c "$T/glob.conf" prune --now $NOW
is "$(cd "$L" && ls | tr '\n' ' ')" "x* " \
    "policy glob: the expired files named x1 and x[1] are deleted"
same_file "$L/x*" "$T/star.orig" "the file named 'x*' is untouched"
is "$(grep -c '^delete' "$T/out")" 2 "each file was handled once"
sed "s|files $L/x\*|files $T/no/such/dir/*.log|" "$T/glob.conf" >"$T/nodir.conf"
chmod 0644 "$T/nodir.conf"
run 0 -c "$T/nodir.conf" prune --now $NOW
like "$T/nodir.conf" "no/such/dir" "a glob in a directory that does not exist"

# ---- real traffic, shuffled within each hour ---------------------------
# elastic/examples apache_logs, first 1500 lines: the cutoff falls in the
# middle of an hour whose lines are out of order.
rm -rf "$L" && mkdir -p "$L"
gzip -dc "$DATA/prune/apache_logs-1500.gz" >"$T/apache.orig"
cp "$T/apache.orig" "$L/apache.log"
cp "$DATA/prune/apache_logs-1500.gz" "$L/apache.log.1.gz"
old "$L/apache.log" "$L/apache.log.1.gz"
# Records at or after 2015-05-17 16:05:30 +0000 stay.
awk 'BEGIN { split("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec", m, " ")
             for (i = 1; i <= 12; i++) mon[m[i]] = sprintf("%02d", i) }
     { t = substr($4, 2)
       k = substr(t, 8, 4) mon[substr(t, 4, 3)] substr(t, 1, 2) \
           substr(t, 13, 2) substr(t, 16, 2) substr(t, 19, 2)
       if (k >= "20150517160530") print }' "$L/apache.log" >"$T/apache.want"
now_a=$(date -u -d "@$(( $(ep 2015-05-17T16:05:30Z) + 90 * DAY - 1 ))" +%Y-%m-%dT%H:%M:%SZ)
run 0 prune --now "$now_a" --schedule none --max-age 90d -f combined \
    "$L/apache.log" "$L/apache.log.1.gz"
is "$(awk '{ t = substr($4, 14) }
    t >= "16:05:30" && t < "16:06" { late = 1 }
    t < "16:05:30" && t >= "16:05" && late { n++ } END { print (n > 0) ? 1 : 0 }' \
    "$T/apache.orig")" 1 "the lines around the cutoff are out of order"
same_file "$L/apache.log" "$T/apache.want" \
    "unsorted real log: exactly the records before the cutoff are gone"
gzip -dc "$L/apache.log.1.gz" >"$T/apache.gz.txt"
same_file "$T/apache.gz.txt" "$T/apache.want" "the same for its gzip copy"
is "$(grep -c 'May/2015:1[0-5]:' "$L/apache.log" || true)" 0 \
    "no kept line is older than the cutoff"

# ---- usage errors -------------------------------------------------------
run 2 prune --max-age 90d
like "$T/err" "needs one FILE" "--max-age without FILE"
run 2 prune --max-age 90x "$L/x1"
like "$T/err" "^retention: prune: --max-age" "bad duration"
run 2 prune --schedule weekly --max-age 90d "$L/x1"
like "$T/err" "not daily, hourly or none" "bad schedule"
run 2 prune "$L/x1"
like "$T/err" "need --max-age" "FILE without --max-age"
run 2 prune --schedule none
like "$T/err" "need --max-age" "--schedule without --max-age"
run 2 prune
like "$T/err" "no policy" "no policy at all"
run 2 prune --frobnicate
like "$T/err" "unknown option '--frobnicate'" "unknown option"
run 1 prune $ADHOC "$L/nonexistent"
like "$T/err" "nonexistent: no such file" "a missing file is an error"

done_testing
