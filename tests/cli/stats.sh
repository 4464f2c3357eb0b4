#!/bin/sh
# stats.sh - retention stats ingest|report|merge end to end: exact totals
# against a ground truth computed here, idempotency, GeoIP, privacy of
# the database, escaping, folding, merge, sites, opt-out.
. "$top_srcdir/tests/cli/lib.sh"

STATS_LINES=${STATS_LINES:-3000}
GEO="--geoip $DATA/stats/GeoIP2-Country-Test.mmdb --geoip $DATA/stats/GeoLite2-ASN-Test.mmdb"

# A combined log over three days; addresses include ones the MaxMind test
# databases know (GB, NO, AS1221).
awk -v n="$STATS_LINES" 'BEGIN {
    split("/ /kontakt /strom/tarife /gas/tarife /presse /impressum /missing /css/site.css", P, " ")
    split("200 200 200 304 404 301 500 200", S, " ")
    split("81.2.69.143 2a02:cf40::7 1.128.3.4", G, " ")
    ua[1] = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
    ua[2] = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
    ua[3] = "curl/8.5.0"
    seed = 7
    for (i = 0; i < n; i++) {
        t = int(i * 3 * 86400 / n)
        d = 10 + int(t / 86400); s = t % 86400
        seed = (seed * 1103515245 + 12345) % 2147483648
        p = 1 + int(seed / 65536) % 8
        st = (p == 7) ? 404 : S[1 + int(seed / 256) % 8]
        if (st == 404 && p != 7) st = 200
        b = (st == 304) ? 0 : 10 + int(seed / 16) % 5000
        v = int(i / 3) % 211
        if (v < 3) ip = G[v + 1]; else ip = sprintf("10.%d.%d.%d", int(v / 50), v % 50, 100 + v % 100)
        printf "%s - - [%02d/Nov/2026:%02d:%02d:%02d +0000] \"GET %s HTTP/1.1\" %d %d \"https://www.google.com/search?q=x\" \"%s\"\n", ip, d, int(s / 3600), int(s % 3600 / 60), s % 60, P[p], st, b, ua[1 + int(i / 3 / 211) % 3]
    }
}' >"$T/access.log"

# ground truth, from the log itself
total=$(wc -l <"$T/access.log" | tr -d ' ')
bytes=$(awk '{ s += $10 } END { print s }' "$T/access.log")
awk '{ c[$9]++ } END { for (k in c) print k, c[k] }' "$T/access.log" | sort >"$T/status.want"
awk '{ c[$7]++ } END { for (k in c) print k, c[k] }' "$T/access.log" | sort >"$T/pages.want"
awk '{ c[substr($4, 2, 11)]++ } END { for (k in c) print k, c[k] }' "$T/access.log" | sort >"$T/days.want"

# json_list NAME: "key hits" lines of a list of $T/out (one row a line)
json_list() {
    sed -n "/^\"$1\":\[/,/\]/p" "$T/out" |
        sed -n 's/.*{"key":"\([^"]*\)","hits":\([0-9]*\),.*/\1 \2/p' | sort
}
json_total() {
    sed -n "s/.*\"totals\":{[^}]*\"$1\":\([0-9]*\).*/\1/p" "$T/out"
}

DB="$T/stats.db"
run 0 stats ingest -d "$DB" -f combined $GEO "$T/access.log"
is "$(cat "$T/out" "$T/err")" "" "ingest is quiet on success"
run 0 stats report -d "$DB" -F json --top 0
cp "$T/out" "$T/first.json"
is "$(json_total requests)" "$total" "total requests exact"
is "$(json_total bytes)" "$bytes" "total bytes exact"
json_list status >"$T/status.got"
same_file "$T/status.got" "$T/status.want" "per-status counts exact"
json_list pages >"$T/pages.got"
same_file "$T/pages.got" "$T/pages.want" "per-page counts exact"
sed -n 's/.*{"date":"2026-11-\([0-9]*\)","requests":\([0-9]*\),.*/\1\/Nov\/2026 \2/p' "$T/out" | sort >"$T/days.got"
same_file "$T/days.got" "$T/days.want" "per-day counts exact"
like "$T/out" '"key":"GB","hits"' "country from the GeoIP database"
like "$T/out" '"key":"NO","hits"' "IPv6 country"
like "$T/out" '"key":"curl","hits"' "curl counted as a client"
like "$T/out" '"key":"www.google.com","hits"' "referrer reduced to its host"
unlike "$T/out" 'q=x' "query strings dropped"
run 0 stats report -d "$DB" --top 0
like "$T/out" 'AS1221 Telstra Pty Ltd' "network from the ASN database"
like "$T/out" '^Pages' "text report has tables"

# idempotency
run 0 -v stats ingest -d "$DB" -f combined "$T/access.log"
like "$T/err" "0 lines counted, $total counted before" "the same file again adds nothing"
gzip -c "$T/access.log" >"$T/access.log.1.gz"
run 0 stats ingest -d "$DB" -f combined "$T/access.log.1.gz"
run 0 stats report -d "$DB" -F json --top 0
same_file "$T/out" "$T/first.json" "its gzipped copy adds nothing"
# an anonymized copy (what retention anonymize --in-place leaves) is
# the same log: the identity of an input leaves the addresses out
sed -e 's/^\([0-9]*\.[0-9]*\.[0-9]*\)\.[0-9]* /\1.0 /' \
    -e 's/^2a02:cf40::7 /2a02:cf40:: /' "$T/access.log" | gzip -c >"$T/access.log.2.gz"
check "the copy is anonymized" sh -c "! zcat '$T/access.log.2.gz' | grep -q -e '^10\.[0-9]*\.[0-9]*\.[1-9]' -e '^2a02:cf40::7'"
run 0 stats ingest -d "$DB" -f combined "$T/access.log.2.gz"
run 0 stats report -d "$DB" -F json --top 0
same_file "$T/out" "$T/first.json" "its anonymized copy adds nothing"
DB2="$T/grow.db"
head -c 100000 "$T/access.log" >"$T/live.log"
run 0 stats ingest -d "$DB2" -f combined $GEO "$T/live.log"
head -c 200000 "$T/access.log" >"$T/live.log"
run 0 stats ingest -d "$DB2" -f combined $GEO "$T/live.log"
cat "$T/access.log" >"$T/live.log"
run 0 stats ingest -d "$DB2" -f combined $GEO "$T/live.log"
run 0 stats report -d "$DB2" -F json --top 0
is "$(json_total requests)" "$total" "a growing live file is counted once"
json_list pages >"$T/pages.got"
same_file "$T/pages.got" "$T/pages.want" "pages of the growing file exact"

# the database holds no address, full or truncated
if [ -n "${SQLITE3:-}" ] && [ -x "$SQLITE3" ]; then
    "$SQLITE3" "$DB" .dump >"$T/dump.sql"
else
    cp "$DB" "$T/dump.sql"
fi
cat "$DB" "$DB"-wal "$DB2" "$DB2"-wal 2>/dev/null >"$T/raw" || true
cat "$T/dump.sql" >>"$T/raw"
awk '{ print $1 }' "$T/access.log" | sort -u >"$T/addrs"
leaks=0
while read -r a; do
    case $a in
    *:*) net=$(echo "$a" | cut -d: -f1-3) ;;
    *) net=$(echo "$a" | cut -d. -f1-3). ;;
    esac
    if grep -a -q -F -e "$a" -e "$net" "$T/raw"; then
        leaks=$((leaks + 1))
        echo "# found $a or $net"
    fi
done <"$T/addrs"
is "$leaks" 0 "no input address nor its truncation in the database ($(wc -l <"$T/addrs") checked)"

# control characters from the log are escaped in the terminal report
printf '10.9.9.9 - - [12/Nov/2026:10:00:00 +0000] "GET /a\033[2Jb HTTP/1.1" 200 5 "-" "x\033]0;t\007y"\n' >"$T/esc.log"
run 0 stats ingest -d "$T/esc.db" -f combined "$T/esc.log"
run 0 --color=always stats report -d "$T/esc.db"
like "$T/out" '/a\\x1B\[2Jb' "the escape in a path is shown as \\x1B"
check "no raw escape from the log reaches the terminal" \
    sh -c "! grep -a -q -F \"\$(printf '\033[2J')\" '$T/out'"

# folding
run 0 stats report -d "$DB" -F json --min-count 1000000
like "$T/out" '^"pages":\[$' "pages list"
is "$(json_list pages)" "other $total" "--min-count folds everything into other"

# sites and merge
run 0 stats ingest -d "$T/a.db" --site www -f combined "$T/access.log"
run 0 stats ingest -d "$T/b.db" --site portal -f combined "$T/esc.log"
run 0 stats merge -d "$T/all.db" "$T/a.db" "$T/b.db"
run 0 stats report -d "$T/all.db" -F json
is "$(json_total requests)" "$((total + 1))" "merged totals add up"
run 0 stats report -d "$T/all.db" -F json --site portal
is "$(json_total requests)" 1 "--site selects one site"
# Every dimension and the transitions of a site come through the merge.
run 0 stats report -d "$T/a.db" -F json --site www
cp "$T/out" "$T/a.json"
run 0 stats report -d "$T/all.db" -F json --site www
same_file "$T/out" "$T/a.json" "merged: one site's whole report is unchanged"
like "$T/a.json" '"transitions":\[$' "the site has transitions"
like "$T/a.json" '^ ?\{"from":"[^"]+","to":"[^"]+","hits":[1-9]' "with rows"
run 2 stats merge -d "$T/all.db" "$T/a.db"
like "$T/err" 'already merged' "a database is merged only once"

# opt-out: DNT requests are requests, not visitors, not flows
fmt='%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" "%{DNT}i"'
printf '%s\n' \
    '192.0.2.1 - - [12/Nov/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "x" "1"' \
    '192.0.2.1 - - [12/Nov/2026:10:00:09 +0000] "GET /b HTTP/1.1" 200 5 "-" "x" "1"' \
    '192.0.2.2 - - [12/Nov/2026:10:00:00 +0000] "GET /c HTTP/1.1" 200 5 "-" "x" "-"' \
    '192.0.2.2 - - [12/Nov/2026:10:00:09 +0000] "GET /d HTTP/1.1" 200 5 "-" "x" "-"' >"$T/dnt.log"
run 0 stats ingest -d "$T/dnt.db" -f "$fmt" "$T/dnt.log"
run 0 stats report -d "$T/dnt.db" -F json
is "$(json_total requests)" 4 "opted-out requests are counted"
is "$(json_total visitors)" 1 "but are no visitors"
like "$T/out" '\{"from":"/c","to":"/d","hits":1\}' "flows of the others counted"
unlike "$T/out" '"/a"[^}]*"hits":1\}|"from":"/a"' "opted-out pages are not in flows"
unlike "$T/out" '"entry_pages":\[[^]]*"/a"' "nor entry pages"

# --from/--to select days
run 0 stats report -d "$DB" -F json --from 2026-11-11 --to 2026-11-11
is "$(json_total requests)" "$(awk '$4 ~ /^.11\/Nov/' "$T/access.log" | wc -l | tr -d ' ')" "--from/--to select one day"
like "$T/out" '^\{"from":"2026-11-11","to":"2026-11-11"' "the range is reported"
run 2 stats report -d "$DB" --from 2026-11-12 --to 2026-11-11

# unparsed lines are counted as such; query strings kept on request
printf '%s\n' 'garbage line' \
    '10.7.7.7 - - [12/Nov/2026:10:00:00 +0000] "GET /suche?q=strom HTTP/1.1" 200 5 "-" "x"' \
    '10.7.7.7 - - [12/Nov/2026:10:00:01 +0000] "GET /kunde?nr=12345678 HTTP/1.1" 200 5 "-" "x"' >"$T/q.log"
run 0 stats ingest -d "$T/q.db" -f combined --keep-query "$T/q.log"
run 0 stats report -d "$T/q.db" -F json
is "$(json_total unparsed)" 1 "an unparsed line is counted as unparsed"
is "$(json_total requests)" 2 "and not as a request"
like "$T/out" '"key":"/suche\?q=strom"' "--keep-query keeps query strings"
like "$T/out" '"key":"/kunde\?nr=\{num\}"' "digit runs in kept queries are redacted"

# the default database is in the policy's state directory
mkdir -p "$T/state"
cat >"$T/p.conf" <<CONF
policy {
    name       "Test"
    controller "Test GmbH"
    version    1.0
    effective  2026-01-01
    schedule   daily
    state      $T/state
}
category web-access {
    description "Website"
    files       $T/access.log
    format      combined
    statistics  yes
    delete      after 90d
}
CONF
chmod 600 "$T/p.conf"
run 0 -c "$T/p.conf" stats ingest -f combined "$T/esc.log"
check "the policy's state directory holds the database" test -s "$T/state/statistics.db"
run 0 -c "$T/p.conf" stats report -F json
is "$(json_total requests)" 1 "report reads the policy's database"

# a configured opt-out cookie works like DNT
fmt='%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" "%{Cookie}i"'
printf '%s\n' \
    '192.0.2.1 - - [12/Nov/2026:10:00:00 +0000] "GET /a HTTP/1.1" 200 5 "-" "x" "sid=1; track=no"' \
    '192.0.2.1 - - [12/Nov/2026:10:00:09 +0000] "GET /b HTTP/1.1" 200 5 "-" "x" "track=no"' \
    '192.0.2.2 - - [12/Nov/2026:10:00:00 +0000] "GET /c HTTP/1.1" 200 5 "-" "x" "track=nope"' >"$T/cookie.log"
run 0 stats ingest -d "$T/cookie.db" -f "$fmt" --opt-out-cookie track=no "$T/cookie.log"
run 0 stats report -d "$T/cookie.db" -F json
is "$(json_total visitors)" 1 "the opt-out cookie keeps requests out of visitors"
unlike "$T/out" '"from":"/a"' "and out of flows"
run 2 stats ingest -d "$T/cookie.db" --opt-out-cookie nonsense "$T/cookie.log"

# a damaged gzip file: the lines before the damage count, the error shows
gzip -c "$T/access.log" >"$T/full.gz"
head -c $(($(wc -c <"$T/full.gz") / 2)) "$T/full.gz" >"$T/damaged.gz"
run 1 stats ingest -d "$T/dmg.db" -f combined "$T/damaged.gz"
like "$T/err" 'damaged.gz' "the damaged file is named"
run 0 stats report -d "$T/dmg.db" -F json
got=$(json_total requests)
check "the lines before the damage are counted ($got)" test "$got" -gt 0 -a "$got" -lt "$total"
run 0 stats ingest -d "$T/dmg.db" -f combined "$T/access.log"
run 0 stats report -d "$T/dmg.db" -F json
is "$(json_total requests)" "$total" "the intact file adds only the rest"

# a progress bar on request, nothing under cron
set +e
{ cat "$T/access.log"; sleep 0.3; } | "$RETENTION" --progress=always stats ingest -d "$T/prog.db" -f combined - 2>"$T/err"
rc=$?
set -e
is "$rc" 0 "ingest from standard input"
like "$T/err" '^.*- .*[0-9.]+ KiB' "--progress=always draws a bar"
run 0 stats ingest -d "$T/prog2.db" -f combined "$T/access.log"
is "$(cat "$T/err")" "" "no bar without a terminal"

# two ingests of the same input at once never count a line twice
for i in 1 2 3 4 5 6; do cat "$T/access.log"; done >"$T/big.log"
set +e
"$RETENTION" stats ingest -d "$T/cc.db" -f combined "$T/big.log" 2>"$T/cc1.err" &
"$RETENTION" stats ingest -d "$T/cc.db" -f combined "$T/big.log" 2>"$T/cc2.err"
wait
set -e
run 0 stats report -d "$T/cc.db" -F json
is "$(json_total requests)" "$((total * 6))" "concurrent ingests count each line once"
cat "$T/cc1.err" "$T/cc2.err" >"$T/cc.err"
unlike "$T/cc.err" 'retention: stats: [^/]' "a refused ingest names its file"

# usage
run 0 stats --help
like "$T/out" '^Usage: retention stats' "stats --help"
run 0 stats report --help
like "$T/out" '^Usage: retention stats report' "report --help"
run 2 stats report -d "$DB" -F pdf
run 2 stats merge "$T/a.db"
run 2 stats frobnicate
run 1 stats report -d "$T/nonexistent.db"
like "$T/err" '^retention: ' "errors name the program"
done_testing
