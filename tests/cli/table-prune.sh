#!/bin/sh
# table-prune.sh - retention prune and audit on SQLite tables: the ad hoc
# --sqlite form and table sources of a policy (holds, completion,
# statutory retention, client addresses, ISO 8601 text times).
. "$top_srcdir/tests/cli/lib.sh"

[ -n "${SQLITE3:-}" ] && command -v "$SQLITE3" >/dev/null ||
    skip_all "no sqlite3 shell"
sq() { "$SQLITE3" "$@"; }

now=1796119200 # 2026-12-01T10:00:00Z
day=86400
db="$T/portal.db"
sq "$db" <<SQL
PRAGMA journal_mode=WAL;
CREATE TABLE sms_log (id INTEGER PRIMARY KEY, sent_at INTEGER,
    customer_no INTEGER, legal_hold INTEGER DEFAULT 0, body TEXT);
CREATE INDEX sms_log_sent ON sms_log (sent_at);
INSERT INTO sms_log (sent_at, customer_no, legal_hold, body) VALUES
    ($now - 100 * $day, 1, 0, 'sms-expired-1'),
    ($now - 91 * $day, 2, 0, 'sms-expired-2'),
    ($now - 100 * $day, 3, 1, 'sms-held'),
    ($now - 88 * $day, 4, 0, 'sms-within-88d'),
    ($now - 3600, 5, 0, 'sms-today');
SQL

# ---- ad hoc ----
adhoc="--sqlite $db --table sms_log --time-column sent_at --hold-column legal_hold --max-age 90d --schedule none --now @$now"
run 0 prune --dry-run $adhoc
like "$T/out" 'delete 2' "dry run: two rows due"
like "$T/out" '1 held' "dry run: one held"
is "$(sq "$db" 'SELECT count(*) FROM sms_log')" 5 "dry run deletes nothing"

run 3 audit --sqlite "$db" --table sms_log --time-column sent_at --max-age 90d --schedule none --now @$now
like "$T/out" 'violation.*3 past the limit' "audit without the hold column: the held row counts"
run 3 audit $adhoc
like "$T/out" 'violation.*2 past the limit' "audit honours the hold column"

run 0 prune $adhoc
is "$(sq "$db" 'SELECT group_concat(body, " ") FROM (SELECT body FROM sms_log ORDER BY id)')" \
    "sms-held sms-within-88d sms-today" "exactly the expired, unheld rows are deleted"
if grep -a -q -e 'sms-expired-1' -e 'sms-expired-2' "$db" "$db-wal" 2>/dev/null; then
    ok 1 "deleted values are gone from the database file and its WAL"
else
    ok 0 "deleted values are gone from the database file and its WAL"
fi
grep -a -q 'sms-within-88d' "$db"
ok $? "kept values are still in the file (the search works)"
is "$(sq "$db" 'PRAGMA integrity_check')" ok "integrity_check after the prune"

# release the hold: the next run deletes it
sq "$db" "UPDATE sms_log SET legal_hold = 0 WHERE body = 'sms-held'"
run 0 prune $adhoc
is "$(sq "$db" "SELECT count(*) FROM sms_log WHERE body = 'sms-held'")" 0 \
    "after the release the row is deleted"
run 0 audit --json --sqlite "$db" --table sms_log --time-column sent_at --max-age 90d --schedule none --now @$now
like "$T/out" '"status":"compliant"' "audit: compliant after the prune"

# errors
run 1 prune --sqlite "$db" --table sms_log --time-column nosuch --max-age 90d --now @$now
like "$T/err" "no column 'nosuch'" "a missing column is named"
run 1 prune --sqlite "$db" --table nosuch --time-column sent_at --max-age 90d --now @$now
like "$T/err" "no table 'nosuch'" "a missing table is named"

# ---- a policy with table sources ----
sq "$db" <<SQL
CREATE TABLE contact (id INTEGER PRIMARY KEY, created_at TEXT,
    closed_at TEXT, retain_until TEXT, restricted INTEGER DEFAULT 0,
    legal_hold INTEGER DEFAULT 0, email TEXT);
INSERT INTO contact (created_at, closed_at, retain_until, email) VALUES
    ('2026-11-01 09:00:00', NULL, NULL, 'open@example.org'),
    ('2026-11-01 09:00:00', '2026-11-20T10:00:00+01:00', NULL,
     'handled@example.org'),
    ('2026-11-01 09:00:00', '2026-11-30 10:00:01', NULL,
     'handled-yesterday@example.org'),
    ('2026-11-01 09:00:00', '2026-11-20 10:00:00', '2036-12-31',
     'statutory@example.org');
CREATE TABLE access (id INTEGER PRIMARY KEY, t TEXT, ip TEXT, path TEXT);
CREATE INDEX access_t ON access (t);
INSERT INTO access (t, ip, path) VALUES
    ('2026-11-20T08:00:00Z', '198.51.100.77', '/login'),
    ('2026-11-30T08:00:00Z', '198.51.100.78', '/login'),
    ('2026-08-01T08:00:00Z', '2001:db8:4711:1::99', '/old');
SQL
cat >"$T/retention.conf" <<EOF2
policy {
    name       "Datenschutzerklaerung"
    controller "Stadtwerke Bochum Netz GmbH"
    version    1.2
    effective  2017-12-01
    schedule   none
    state      $T/state
}
category contact-form {
    table   sqlite:$db contact time=created_at completed=closed_at retain-until=retain_until restricted=restricted hold=legal_hold
    delete  after completion + 1d
}
category installer-access {
    table      sqlite:$db access time=t client-ip=ip
    anonymize  client-ip after 7d prefix 24/48
    delete     after 90d
}
EOF2
chmod 600 "$T/retention.conf"
run 0 -c "$T/retention.conf" prune --now @$now
is "$(sq "$db" 'SELECT group_concat(email || ":" || restricted, " ") FROM (SELECT * FROM contact ORDER BY id)')" \
    "open@example.org:0 handled-yesterday@example.org:0 statutory@example.org:1" \
    "handled requests deleted, open kept, statutory retention restricted"
is "$(sq "$db" 'SELECT group_concat(ip, " ") FROM (SELECT ip FROM access ORDER BY id)')" \
    "198.51.100.0 198.51.100.78" \
    "addresses older than 7 days truncated, expired row deleted"
if grep -a -q -e '198\.51\.100\.77' -e '2001:db8:4711:1::99' "$db" "$db-wal" 2>/dev/null; then
    ok 1 "no full anonymized or deleted address is left in the file"
else
    ok 0 "no full anonymized or deleted address is left in the file"
fi
check "the lock and audit trail are in the policy's state directory" \
    test -s "$T/state/audit.log" -a -e "$T/state/lock"
run 0 -c "$T/retention.conf" audit --now @$now
run 0 -c "$T/retention.conf" prune --now @$((now + day))
is "$(sq "$db" 'SELECT count(*) FROM contact')" 2 \
    "a day later the request handled yesterday is deleted too"

# ---- notes on a table: no index on the time column, no incremental vacuum ----
sq "$db" <<SQL
CREATE TABLE noidx (id INTEGER PRIMARY KEY, ts INTEGER, body TEXT);
INSERT INTO noidx (ts, body) VALUES ($now - 100 * $day, 'noidx-expired'),
    ($now - 95 * $day, 'noidx-expired-2'), ($now - $day, 'noidx-recent');
SQL
noidx="--sqlite $db --table noidx --time-column ts --max-age 90d --schedule none --now @$now"
run 3 audit $noidx
like "$T/err" 'noidx: the time column has no index: the query plan is a scan' \
    "audit warns about a time column without an index"
run 0 -q prune $noidx
is "$(cat "$T/err")" "" "-q: no warning"
sq "$db" "INSERT INTO noidx (ts, body) VALUES ($now - 99 * $day, 'noidx-expired-3')"
run 0 -v prune $noidx
like "$T/err" 'noidx: the time column has no index: the query plan is a scan' \
    "prune warns about a time column without an index"
like "$T/err" 'noidx: auto_vacuum is not incremental' \
    "-v says that freed pages stay in the file"
like "$T/out" 'table .* noidx: longest write lock [0-9.]* ms' \
    "-v shows the longest write lock"
is "$(sq "$db" "SELECT group_concat(body) FROM noidx")" noidx-recent \
    "and still deletes the expired rows"
sq "$db" "INSERT INTO sms_log (sent_at, body) VALUES ($now - 99 * $day, 'x')"
run 0 prune $adhoc
unlike "$T/err" 'no index' "an indexed time column gets no index warning"
unlike "$T/err" 'auto_vacuum' "without -v, no word on auto_vacuum (cron stays quiet)"
sq "$db" "CREATE INDEX noidx_ts ON noidx (ts)"
run 0 audit $noidx
unlike "$T/err" 'no index' "nor does the table once it is indexed"

# a reader in an open transaction keeps the WAL from being truncated
sq "$db" "INSERT INTO noidx (ts, body) VALUES ($now - 99 * $day, 'noidx-expired-4')"
(echo "BEGIN; SELECT count(*) FROM noidx;"; sleep 4) | "$SQLITE3" "$db" >/dev/null &
reader=$!
sleep 1
run 0 prune $noidx
like "$T/err" 'noidx: readers kept the WAL from being truncated' \
    "prune warns when a reader kept the WAL"
kill "$reader" 2>/dev/null || :
wait "$reader" 2>/dev/null || :

done_testing
