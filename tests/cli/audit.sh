#!/bin/sh
# audit.sh - retention audit: every source holding records older than the
# policy allows, exit 3 if any; --json; ad hoc forms; the audit trail of
# prune (one JSON line per action, no personal data).
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
    description "Nutzung der Website"
    files       $L/access.log*
    format      combined
    anonymize   client-ip after 7d prefix 24/48
    delete      after 90d
}
EOF
chmod 0644 "$T/policy.conf"
P="-c $T/policy.conf"

{
    logline 203.0.113.1 $((NOW_S - 91 * DAY)) /expired
    logline 198.51.100.1 $((NOW_S - 30 * DAY)) /kept
} >"$L/access.log.1"
# 89.5 days: prune removes it a day early, but the policy still allows it.
# (its address is anonymized already)
logline 198.51.100.0 $((NOW_S - 89 * DAY - 43200)) /almost >"$L/access.log.2"
logline 198.51.100.3 $((NOW_S - 2 * DAY)) /recent >"$L/access.log.3"
old "$L"/access.log.*

run 3 $P audit --now $NOW
like "$T/out" "^violation web-access $L/access.log.1: oldest record 91d 0h old, limit 90d 0h; 1 past the limit, 1 not anonymized" \
    "a violation names the source, the oldest record's age and the limit"
unlike "$T/out" "access.log.2|access.log.3" "sources within the limit are not listed"
unlike "$T/out" "203\.0\.113|198\.51\.100" "no address in the report"
is "$(wc -c <"$T/err" | tr -d ' ')" 0 "nothing on stderr"

run 3 $P audit --now $NOW --json
is "$(wc -l <"$T/out" | tr -d ' ')" 3 "--json: one object per source"
like "$T/out" "^\\{\"category\":\"web-access\",\"source\":\"$L/access.log.1\",\"status\":\"violation\",\"oldest\":\"[0-9T:Z-]+\",\"oldest_age\":$((91 * DAY)),\"limit\":$((90 * DAY)),\"records\":2,\"expired\":1,\"not_anonymized\":1,\"untimed\":0,\"error\":null\\}$" \
    "--json gives oldest age and limit"
like "$T/out" "access.log.2\",\"status\":\"compliant\"" "--json lists compliant sources"
if command -v python3 >/dev/null; then
    check "--json lines are valid JSON" python3 -c '
import json, sys
for l in open(sys.argv[1]): json.loads(l)' "$T/out"
fi

# The audit changes nothing and needs no lock.
sum=$(tree_sum "$L")
check "audit created no state" test ! -e "$S"
is "$(tree_sum "$L")" "$sum" "audit changes nothing"

# ---- prune, then the audit is clean -----------------------------------
run 0 $P prune --now $NOW
check "access.log.2 (89.5 days) went a day early" test ! -e "$L/access.log.2"
run 0 $P audit --now $NOW
is "$(wc -c <"$T/out" | tr -d ' ')" 0 "after prune, audit is quiet and exits 0"
run 0 -v $P audit --now $NOW
like "$T/out" "^compliant web-access $L/access.log.3: oldest record 2d 0h old" \
    "-v lists compliant sources"

# ---- the audit trail ------------------------------------------------------
A="$S/audit.log"
check "prune appended to STATE/audit.log" test -s "$A"
is "$(wc -l <"$A" | tr -d ' ')" 2 "one line per action (one rewrite, one delete)"
like "$A" '"action":"rewrite".*"dropped":1,"anonymized":1' "the rewrite is recorded with its counts"
like "$A" '"action":"delete"' "the deletion is recorded"
like "$A" '^\{"time":"[0-9-]+T[0-9:]+Z","now":"2026-12-01T12:00:00Z","controller":"Test Netz GmbH","policy_version":"1.2","policy_hash":"[0-9a-f]{16,}","category":"web-access","source":"' \
    "each record has time, controller, policy version and hash, category, source"
like "$A" '"outcome":"ok"' "and the outcome"
unlike "$A" '203\.0\.113|198\.51\.100|GET|prune-test' "no address and no line content in the audit trail"
if command -v python3 >/dev/null; then
    check "audit trail lines are valid JSON" python3 -c '
import json, sys
for l in open(sys.argv[1]): json.loads(l)' "$A"
fi
run 0 $P prune --now $NOW
is "$(wc -l <"$A" | tr -d ' ')" 2 "a run with nothing to do records nothing"
run 0 $P prune --now $NOW --dry-run
is "$(wc -l <"$A" | tr -d ' ')" 2 "a dry run records nothing"

# ---- ad hoc -----------------------------------------------------------------
logline 203.0.113.9 $((NOW_S - 40 * DAY)) /forty >"$T/adhoc.log"
old "$T/adhoc.log"
run 3 audit --now $NOW --max-age 30d "$T/adhoc.log"
like "$T/out" "^violation ad-hoc $T/adhoc.log: oldest record 40d 0h old, limit 30d 0h" \
    "ad hoc audit of a file"
run 0 audit --now $NOW --max-age 41d "$T/adhoc.log"
run 3 audit --now $NOW --max-age 90d --anonymize-after 7d "$T/adhoc.log"
like "$T/out" "0 past the limit, 1 not anonymized" "ad hoc: addresses not anonymized in time"
cp -p "$T/adhoc.log" "$T/adhoc2.log"
run 0 prune --now $NOW --max-age 30d "$T/adhoc.log"
check "ad hoc prune without --state: done" test ! -e "$T/adhoc.log"
run 0 prune --now $NOW --max-age 30d --state "$T/adhoc-state" "$T/adhoc2.log"
check "ad hoc prune with --state: the lock is there" test -f "$T/adhoc-state/lock"
like "$T/adhoc-state/audit.log" '"controller":"ad hoc".*"action":"delete"' \
    "ad hoc prune with --state: the audit trail is there"
run 1 audit --now $NOW --max-age 30d "$T/nonexistent.log"
like "$T/err" "nonexistent.log: no such file" "an unreadable source is an error"
run 2 audit --dry-run --max-age 30d "$T/adhoc.log"
like "$T/err" "unknown option '--dry-run'" "audit has no --dry-run"

# ---- ad hoc SQLite table ------------------------------------------------
if [ -n "${SQLITE3:-}" ]; then
    db="$T/portal.db"
    "$SQLITE3" "$db" "CREATE TABLE sms_log (id INTEGER PRIMARY KEY, sent_at INTEGER, legal_hold INTEGER DEFAULT 0);
        INSERT INTO sms_log (sent_at, legal_hold) VALUES
        ($((NOW_S - 100 * DAY)), 0), ($((NOW_S - 95 * DAY)), 1), ($((NOW_S - DAY)), 0);"
    SQ="--sqlite $db --table sms_log --time-column sent_at --hold-column legal_hold --max-age 90d --now $NOW"
    run 3 audit $SQ
    like "$T/out" "^violation ad-hoc $db sms_log" "ad hoc audit of a table"
    run 0 prune $SQ
    is "$("$SQLITE3" "$db" 'SELECT count(*) FROM sms_log')" 2 \
        "ad hoc prune of a table keeps the held and the recent row"
    run 0 audit $SQ

    # The same table as a source of a policy category.
    "$SQLITE3" "$db" "INSERT INTO sms_log (sent_at, legal_hold) VALUES ($((NOW_S - 100 * DAY)), 0);"
    cat >"$T/table.conf" <<EOF
policy {
    name "sms"
    controller "Test GmbH"
    version 1
    schedule none
    state $T/tstate
}
category sms {
    table sqlite:$db sms_log time=sent_at hold=legal_hold
    delete after 90d
}
EOF
    chmod 0644 "$T/table.conf"
    run 3 -c "$T/table.conf" audit --now $NOW --json
    like "$T/out" '"table":"sms_log","status":"violation"' "policy audit of a table"
    run 0 -c "$T/table.conf" prune --now $NOW --dry-run
    like "$T/out" "^table $db sms_log: delete 1, restrict 0, anonymize 0 of [0-9]+ rows, 1 held" \
        "the dry run plans the table"
    is "$("$SQLITE3" "$db" 'SELECT count(*) FROM sms_log')" 3 "the dry run deletes no row"
    run 0 -c "$T/table.conf" prune --now $NOW
    is "$("$SQLITE3" "$db" 'SELECT count(*) FROM sms_log')" 2 "prune deletes the expired row"
    like "$T/tstate/audit.log" '"table":"sms_log","action":"table","examined":[0-9]+,"deleted":1' \
        "the table prune is in the audit trail"
    run 0 -c "$T/table.conf" audit --now $NOW
else
    ok 0 "# SKIP sqlite3 not installed"
fi

done_testing
