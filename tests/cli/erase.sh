#!/bin/sh
# erase.sh - retention erase: the right to erasure across the policy's
# SQLite tables; held and statutory-retained records are kept.
. "$top_srcdir/tests/cli/lib.sh"

[ -n "${SQLITE3:-}" ] && command -v "$SQLITE3" >/dev/null ||
    skip_all "no sqlite3 shell"

db="$T/portal.db"
now=1796119200 # 2026-12-01T10:00:00Z
"$SQLITE3" "$db" <<SQL
CREATE TABLE sms_log (id INTEGER PRIMARY KEY, sent_at INTEGER,
    customer_no INTEGER, legal_hold INTEGER DEFAULT 0, body TEXT);
CREATE INDEX sms_log_cust ON sms_log (customer_no);
INSERT INTO sms_log (sent_at, customer_no, legal_hold, body) VALUES
    ($now - 3600, 4711, 0, 'sms-erase-me-1'),
    ($now - 7200, 4711, 0, 'sms-erase-me-2'),
    ($now - 9000, 4711, 1, 'sms-held-evidence'),
    ($now - 3600, 4712, 0, 'sms-someone-else');
CREATE TABLE contact (id INTEGER PRIMARY KEY, created_at TEXT,
    customer_no TEXT, closed_at TEXT, retain_until TEXT,
    restricted INTEGER DEFAULT 0, legal_hold INTEGER DEFAULT 0, email TEXT);
INSERT INTO contact (created_at, customer_no, closed_at, retain_until, email)
VALUES
    ('2026-11-20 10:00:00', '4711', NULL, NULL, 'open-request@example.org'),
    ('2026-01-20 10:00:00', '4711', '2026-01-21 10:00:00',
     '2036-12-31 23:59:59', 'invoice-dispute@example.org'),
    ('2026-01-20 10:00:00', '4711', '2026-01-21 10:00:00',
     '2026-06-30 00:00:00', 'retention-over@example.org');
SQL
cat >"$T/retention.conf" <<EOF2
policy {
    name       "Datenschutzerklaerung"
    controller "Stadtwerke Bochum GmbH"
    version    1.3
    effective  2012-11-01
    schedule   daily
    state      $T/state
}
category web-access {
    files   $T/access.log*
    format  combined
    delete  after 90d
}
category sms {
    table   sqlite:$db sms_log time=sent_at subject=customer_no hold=legal_hold
    delete  after 90d
}
category contact-form {
    table   sqlite:$db contact time=created_at completed=closed_at retain-until=retain_until restricted=restricted subject=customer_no hold=legal_hold
    delete  after completion
}
EOF2
chmod 600 "$T/retention.conf"

run 0 erase --help
like "$T/out" '^Usage: retention erase ' "--help prints the usage"

run 2 -c "$T/retention.conf" erase
like "$T/err" '^retention: erase: --subject ID is required' "--subject is required"
run 2 -c "$T/retention.conf" erase --subject 4711 --category nosuch
like "$T/err" "no category 'nosuch'" "unknown category"
run 2 -c "$T/retention.conf" erase --subject 4711 --category web-access
like "$T/err" "has no SQLite table with a subject column" \
    "a category without a subject table is an error"
run 2 erase --subject 4711
like "$T/err" "no policy" "no policy"

run 0 -c "$T/retention.conf" erase --subject 4711 --dry-run --now @$now
cat >"$T/expected" <<EOF2
sms: $db sms_log: 2 to erase, 1 held (kept)
contact-form: $db contact: 2 to erase, 1 under statutory retention (kept, restricted)
total: 4 to erase, 1 held, 1 retained
EOF2
same_file "$T/out" "$T/expected" "dry run reports per table"
is "$("$SQLITE3" "$db" 'SELECT count(*) FROM sms_log') $("$SQLITE3" "$db" 'SELECT count(*) FROM contact')" \
    "4 3" "dry run changes nothing"

run 0 -c "$T/retention.conf" erase --subject 4711 --now @$now
cat >"$T/expected" <<EOF2
sms: $db sms_log: 2 erased, 1 held (kept)
contact-form: $db contact: 2 erased, 1 under statutory retention (kept, restricted)
total: 4 erased, 1 held, 1 retained
EOF2
same_file "$T/out" "$T/expected" "erase reports per table"
unlike "$T/out" '4711' "the subject is not printed"
is "$("$SQLITE3" "$db" 'SELECT group_concat(body, " ") FROM sms_log')" \
    "sms-held-evidence sms-someone-else" "held and other people's SMS remain"
is "$("$SQLITE3" "$db" 'SELECT group_concat(email || ":" || restricted, " ") FROM contact')" \
    "invoice-dispute@example.org:1" "the retained request remains, restricted"
if grep -a -q -e 'sms-erase-me-1' -e 'open-request@example.org' "$db" "$db-wal" 2>/dev/null; then
    ok 1 "erased values are gone from the database file"
else
    ok 0 "erased values are gone from the database file"
fi
grep -a -q 'sms-someone-else' "$db"
ok $? "kept values are in the file (the search works)"
is "$("$SQLITE3" "$db" 'PRAGMA integrity_check')" "ok" "database intact"

run 0 -c "$T/retention.conf" erase --subject 4711 --category sms --now @$now
is "$(cat "$T/out")" "sms: $db sms_log: 0 erased, 1 held (kept)" \
    "--category limits to one category; a second run finds nothing"

run 0 -q -c "$T/retention.conf" erase --subject 4712 --now @$now
is "$(cat "$T/out")" "" "-q prints nothing"
is "$("$SQLITE3" "$db" 'SELECT count(*) FROM sms_log WHERE customer_no = 4712')" \
    "0" "-q still erases"

# a missing database: exit 1, the other tables are still done
sed "s|sqlite:$db sms_log|sqlite:$T/missing.db sms_log|" "$T/retention.conf" >"$T/broken.conf"
chmod 600 "$T/broken.conf"
run 1 -c "$T/broken.conf" erase --subject 4711 --now @$now
like "$T/err" "^retention: .*missing.db" "a missing database is reported"
like "$T/out" "^contact-form: " "the other table is still processed"

done_testing
