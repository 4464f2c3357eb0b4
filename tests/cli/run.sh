#!/bin/sh
# run.sh - retention run, the daily job, driven by a test policy: the
# statistics count every line before it is deleted, due lines are
# anonymized, expired ones deleted, then the audit is clean.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/cli/prune-lib.sh"

L="$T/logs"
S="$T/state"
mkdir -p "$L"
cat >"$T/policy.conf" <<EOF
policy {
    name       "Datenschutzerklärung"
    controller "Test Netz GmbH"
    version    1.2
    effective  2017-12-01
    schedule   daily
    state      $S
}
category web-access {
    files       $L/access.log*
    format      combined
    anonymize   client-ip after 7d prefix 24/48
    statistics  yes
    delete      after 90d
}
category other {
    files       $L/other.log
    format      combined
    delete      after 30d
}
EOF
chmod 0644 "$T/policy.conf"
P="-c $T/policy.conf"

mk_logs() {
    rm -rf "$L" "$S"
    mkdir -p "$L"
    {
        logline 203.0.113.1 $((NOW_S - 95 * DAY)) /expired-1
        logline 198.51.100.1 $((NOW_S - 30 * DAY)) /anon-1
    } >"$L/access.log.1"
    {
        logline 203.0.113.2 $((NOW_S - 100 * DAY)) /expired-2
        logline 203.0.113.3 $((NOW_S - 99 * DAY)) /expired-3
    } | gzip >"$L/access.log.2.gz"
    logline 198.51.100.4 $((NOW_S - DAY)) /recent >"$L/access.log"
    {
        logline 203.0.113.5 $((NOW_S - 40 * DAY)) /other-expired
        logline 198.51.100.5 $((NOW_S - 10 * DAY)) /other-kept
    } >"$L/other.log"
    old "$L"/*
}

mk_logs
run 3 $P audit --now $NOW
run 0 $P run --now $NOW --dry-run
like "$T/out" "^delete $L/access.log.2.gz: 2 lines" "dry run: the plan"
like "$T/out" "^rewrite $L/other.log: drop 1, anonymize 0, keep 1 of 2 lines" \
    "dry run: every category"
check "dry run: no statistics database" test ! -e "$S/statistics.db"

run 0 $P run --now $NOW
is "$(wc -c <"$T/out" | tr -d ' ')$(wc -c <"$T/err" | tr -d ' ')" 00 \
    "run is quiet on success"
is "$(cd "$L" && ls | tr '\n' ' ')" "access.log access.log.1 other.log " \
    "the expired file is deleted"
is "$(cut -d' ' -f1,7 "$L/access.log.1")" "198.51.100.0 /anon-1" \
    "due lines are anonymized, expired ones dropped"
is "$(cut -d' ' -f7 "$L/other.log")" "/other-kept" "the other category is pruned by its own rule"
check "the statistics database is in the state directory" test -s "$S/statistics.db"
# requests counted: from the report, as a user reads them
counted() {
    "$RETENTION" stats report -d "$S/statistics.db" -F json \
        --from 2026-01-01 --to 2026-12-31 |
        sed -n 's/.*"totals":{"requests":\([0-9]*\),.*/\1/p'
}
is "$(counted)" 5 "every line of the statistics category was counted, deleted ones too"
run 0 $P run --now $NOW
# the file prune rewrote (expired head dropped, addresses masked) is
# known as counted already
is "$(counted)" 5 "a second run counts nothing twice"
found=$(for f in $(find "$T" -type f ! -name '*.db*'); do content "$f" 2>/dev/null || cat "$f"; done |
    grep -c '203\.0\.113\.\|198\.51\.100\.1 ' || true)
is "$found" 0 "no expired or due address remains in any file"
if [ -n "${SQLITE3:-}" ]; then
    "$SQLITE3" "$S/statistics.db" .dump >"$T/dump"
    unlike "$T/dump" '203\.0\.113\.|198\.51\.100\.' "no address in the statistics database"
fi
run 0 $P audit --now $NOW
like "$S/audit.log" '"category":"other"' "the audit trail has every category"

# A rewritten file is recorded as counted, plain or gzip: neither it, nor
# the original it was cut from, is counted again; lines added later are.
mk_logs
{
    logline 203.0.113.6 $((NOW_S - 120 * DAY)) /expired-6
    logline 203.0.113.7 $((NOW_S - 95 * DAY)) /expired-7
    logline 198.51.100.8 $((NOW_S - 20 * DAY)) /anon-8
    logline 198.51.100.9 $((NOW_S - 2 * DAY)) /recent-9
} | gzip >"$L/access.log.3.gz"
old "$L/access.log.3.gz"
cp "$L/access.log.3.gz" "$T/orig.3.gz"
gzip -c "$L/access.log.1" >"$T/orig.1.gz"
run 0 $P run --now $NOW
is "$(counted)" 9 "every line counted once"
is "$(content "$L/access.log.3.gz" | cut -d' ' -f1,7 | tr '\n' ' ')" \
    "198.51.100.0 /anon-8 198.51.100.9 /recent-9 " "the gzip file is rewritten"
run 0 $P run --now $NOW
is "$(counted)" 9 "a second run counts neither rewritten file again"
run 0 $P prune --now $NOW
is "$(counted)" 9 "nor does prune"
run 0 stats ingest -d "$S/statistics.db" -f combined "$L/access.log.3.gz" \
    "$L/access.log.1"
is "$(counted)" 9 "stats ingest of the rewritten files counts nothing"
run 0 stats ingest -d "$S/statistics.db" -f combined "$T/orig.3.gz" \
    "$T/orig.1.gz"
is "$(counted)" 9 "nor of the original rotated gzip copies"
logline 198.51.100.10 $((NOW_S - DAY)) /grown >>"$L/access.log.1"
run 0 stats ingest -d "$S/statistics.db" -f combined "$L/access.log.1"
is "$(counted)" 10 "a line added to a rewritten file is counted"
if [ -n "${SQLITE3:-}" ]; then
    "$SQLITE3" "$S/statistics.db" .dump >"$T/dump"
    unlike "$T/dump" '203\.0\.113\.|198\.51\.100\.' \
        "no address in the statistics database after the rewrites"
fi

# The policy's geoip database gives the countries of the daily run.
G="$T/geo"
mkdir -p "$G"
sed -e "s|state      $S|state      $T/geo-state\\
    geoip      $DATA/stats/GeoIP2-Country-Test.mmdb|" \
    -e "s|$L/access.log\*|$G/access.log*|" "$T/policy.conf" >"$T/geo.conf"
chmod 0644 "$T/geo.conf"
{
    logline 81.2.69.143 $((NOW_S - 95 * DAY)) /expired-gb
    logline 81.2.69.143 $((NOW_S - 2 * DAY)) /recent-gb
} >"$G/access.log.1"
old "$G/access.log.1"
run 0 -c "$T/geo.conf" run --now $NOW --category web-access
"$RETENTION" stats report -d "$T/geo-state/statistics.db" -F json \
    --from 2026-01-01 --to 2026-12-31 >"$T/geo.json"
sed -n '/^"countries":\[/,/\]/p' "$T/geo.json" >"$T/geo.countries"
like "$T/geo.countries" '"key":"GB","hits":2,' \
    "run counts countries from the policy's geoip database"
unlike "$T/geo.json" '81\.2\.69\.' "and no address reaches the report"

# Nothing is deleted uncounted: when the statistics cannot be written,
# the files of that category stay as they are.
mk_logs
mkdir -p "$S/statistics.db"
sum=$(tree_sum "$L")
run 1 $P prune --now $NOW --category web-access
like "$T/err" "statistics.db" "a statistics failure is reported"
is "$(tree_sum "$L")" "$sum" "and no line of the category is deleted uncounted"
rmdir "$S/statistics.db"

# A live file is deferred: exit 1, and it is not touched.
mk_logs
logline 203.0.113.9 $((NOW_S - 95 * DAY)) /expired-live >>"$L/access.log"
cp "$L/access.log" "$T/live"
run 1 $P run --now $NOW
like "$T/err" "access.log: live file .*rotate it" "run: the live file is deferred"
same_file "$L/access.log" "$T/live" "run: the live file is untouched"
check "run: the other files are still pruned" test ! -e "$L/access.log.2.gz"

# ---- contrib: the cron job, the systemd units, the logrotate hook ------
C="$top_srcdir/contrib"
mk_logs
set +e
RETENTION_CONF="$T/policy.conf" RETENTION="$RETENTION" sh "$C/cron.daily/retention" \
    >"$T/out" 2>"$T/err"
rc=$?
set -e
is "$rc" 0 "contrib/cron.daily/retention runs the job"
check "the cron job pruned" test ! -e "$L/access.log.2.gz"
is "$(wc -c <"$T/out" | tr -d ' ')$(wc -c <"$T/err" | tr -d ' ')" 00 \
    "the cron job is quiet on success"
set +e
RETENTION_CONF="$T/none.conf" RETENTION=/nonexistent sh "$C/cron.daily/retention"
rc=$?
set -e
is "$rc" 0 "the cron job does nothing when retention is not installed"
if command -v systemd-analyze >/dev/null; then
    sed "s|/usr/bin/retention|$RETENTION|" "$C/systemd/retention.service" \
        >"$T/retention.service"
    cp "$C/systemd/retention.timer" "$T/retention.timer"
    systemd-analyze verify --man=no "$T/retention.service" "$T/retention.timer" \
        >"$T/sd" 2>&1 || true
    is "$(grep -v 'Failed to \|Command .man' "$T/sd" | head -3)" "" \
        "the systemd units verify"
else
    ok 0 "# SKIP systemd-analyze not installed"
fi
if command -v logrotate >/dev/null; then
    check "the logrotate stanza parses" sh -c \
        "logrotate -d -s '$T/lr.state' '$C/logrotate/retention' >/dev/null 2>&1"
else
    ok 0 "# SKIP logrotate not installed"
fi
like "$C/logrotate/retention" "postrotate" "the logrotate stanza has a postrotate hook"
like "$C/logrotate/retention" "retention -q run --wait --category" \
    "which runs retention for its category"

run 2 $P run --max-age 90d
like "$T/err" "unknown option '--max-age'" "run has no ad hoc form"
run 2 $P run --category nosuch
like "$T/err" "no category 'nosuch'" "an unknown category"
run 0 $P run --now $NOW --category other

done_testing
