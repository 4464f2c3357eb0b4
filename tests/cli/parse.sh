#!/bin/sh
# parse.sh - retention parse and retention formats: golden outputs over
# real logs of every preset, the parse summary, exit codes, and that no
# full address is ever printed.
. "$top_srcdir/tests/cli/lib.sh"

F="$DATA/format"

# golden NAME [ARGS...]: records and summary of NAME.log, compared exactly
golden() {
    _n=$1
    shift
    (cd "$F" && "$RETENTION" parse "$@" "$_n.log") >"$T/$_n.json" 2>"$T/err" ||
        echo "# exit $? for $_n" >>"$T/$_n.json"
    same_file "$T/$_n.json" "$F/$_n.json" "parse $_n.log: records as expected"
    (cd "$F" && "$RETENTION" parse --check "$@" "$_n.log") >"$T/$_n.check" 2>&1 ||
        echo "# exit $? for $_n" >>"$T/$_n.check"
    same_file "$T/$_n.check" "$F/$_n.check" "parse --check $_n.log: summary"
}

for n in apache-combined apache-darwin apache-mixed caddy caltech-nginx \
    cloudflare edge haproxy-beats haproxy-lnav haproxy-noheaders iis-blocks \
    iis-ipv6zone iis-noheader-crlf iis-restarts iis-xff nginx-access \
    nginx-host nginx-ingress nginx-lists traefik-clf w3c-advanced w3c-oracle; do
    golden "$n"
done

# Field values the golden files hold, spelled out.
like "$F/apache-combined.check" '^  format:    combined$' "apache log: combined detected"
like "$F/apache-combined.check" '^    quote      1 \(line 200\)$' "apache line 8899 (here 200): unclosed quote"
like "$F/apache-combined.json" '^\{"line":7,"time":"2015-05-20T10:05:45Z","offset":"\+00:00","client":"46\.105\.14\.0","request":"GET /blog/tags/puppet\?flav=rss20 HTTP/1\.1","method":"GET","path":"/blog/tags/puppet","query":"flav=rss20","protocol":"HTTP/1\.1","user_agent":"UniversalFeedParser/4\.2-pre-314-svn \+http://feedparser\.org/","status":200,"bytes":14872,' "apache: record fields (line 7)"
like "$F/apache-combined.json" '^\{"line":2,"time":"2015-05-20T10:05:47Z",' "apache: shuffled timestamps kept per line"
like "$F/iis-restarts.check" '^  skipped:   40$' "IIS: 40 header lines in 10 blocks skipped"
like "$F/iis-restarts.check" '^  parsed:    16$' "IIS: 16 records"
like "$F/caddy.json" '"client":"10\.10\.10\.0".*"vhost":"mirrors\.tnonline\.net:400"' "Caddy: client_ip and host"
like "$F/caddy.json" '"client":"240e:1:1::"' "Caddy: IPv6 client truncated to /48"
like "$F/edge.json" '"line":2,"time":"2024-03-01T09:29:59Z","offset":"-09:30","client":"fe80::"' "zone id: offset -0930 honoured"
like "$F/edge.json" '"client":"10\.0\.0\.0, 10\.0\.0\.0, 192\.0\.2\.0"' "client list: every element truncated"
like "$F/edge.json" '"client":"<redacted>"' "unix: client redacted"
like "$F/edge.json" '"path":"/\\u00a4\\u00a4\\u00a4\\u00e5/index.html"' "Big5 bytes escaped as \\u00XX"
like "$F/edge.json" '"path":"/nul\\u0000byte"' "NUL byte escaped"
like "$F/edge.json" '"user_agent":"ctl\\u0001\\u001b\[31m"' "control characters escaped"
like "$F/edge.json" '"user_agent":"say \\\\\\"hi\\\\\\" \\\\\\\\ ok"' "Apache escapes kept raw, JSON-escaped"
like "$F/edge.check" '^    quote      2 \(lines 7, 15\)$' "unclosed and truncated last line"
like "$F/edge.check" '^    status     1 \(line 12\)$' "bad status"
like "$F/edge.json" '"line":4,.*"referer":"https://example.org/a b","user_agent":"Mozilla/5.0 \(X11\)",' "CRLF: no \\r in the last field"
like "$F/nginx-lists.json" '"client":"10\.5\.102\.0, 199\.96\.1\.0, 204\.246\.1\.0, 10\.2\.1\.0"' "nginx: quoted client list"
like "$F/nginx-host.json" '^\{"line":1,.*"client":"10\.0\.0\.0, 10\.0\.0\.0, 127\.0\.0\.0",.*"vhost":"example\.com"' "vhost first: host and client list apart"
like "$F/nginx-lists.json" '"client":"2a03:0:10ff::, 10\.225\.192\.0, 10\.2\.2\.0"' "nginx: full-form IPv6 in a list"
like "$F/haproxy-lnav.json" '"line":4,"time":"2019-02-25T16:19:48Z".*"user_agent":"Mozilla/5.0 \(Windows NT 6\.1; Win64; x64; rv:65\.0\) Gecko/20100101 Firefox/65\.0","status":200,"bytes":11394' "HAProxy: captured user agent, status, bytes"
like "$F/w3c-oracle.json" '"time":"2001-10-31T08:00:18Z","offset":"-08:00"' "W3C #GMT-Offset honoured"

# An explicit format.
(cd "$F" && "$RETENTION" parse -f common apache-darwin.log) >"$T/darwin"
same_file "$T/darwin" "$F/apache-darwin.common.json" "-f common"

# Privacy: no full address of any input appears in any output. Every
# IPv4 address not already ending in .0, and every IPv6 address with more
# than three groups before its end, is looked for.
cat "$F"/*.json "$F"/*.check >"$T/all-out"
grep -ahoE '([0-9]{1,3}\.){3}[0-9]{1,3}' "$F"/*.log | grep -v '\.0$' | sort -u >"$T/v4"
check "the inputs hold IPv4 addresses" test -s "$T/v4"
leaks=0
while read -r a; do
    # as a token of its own: not "rv:1.9.0.13" or "UP.Browser/6.2.3.3.c"
    if grep -aqE "(^|[^0-9A-Za-z.:/=%])$(echo "$a" | sed 's/\./\\./g')([^0-9.]|$)" "$T/all-out"; then
        echo "#   leaked: $a"
        leaks=$((leaks + 1))
    fi
done <"$T/v4"
is "$leaks" 0 "no full IPv4 address in the outputs"
for a in 2001:db8:cafe::17 fe80::a1b2:c3d4 2a02:cf40:10ff:f00f 2a03:0000:10ff \
    240e:1:1::1234 2001:db8:1:2::99 2a02:cf40::4e36; do
    if grep -aqi -- "$a" "$T/all-out"; then ok 1 "IPv6 $a not in the outputs"
    else ok 0 "IPv6 $a not in the outputs"; fi
done
grep -aho '"client":"[^"]*"' "$T/all-out" | sort -u >"$T/clients"
check "client values found" test -s "$T/clients"
grep -avE '^"client":"(<redacted>|[0-9a-f.:]+)(, (<redacted>|[0-9a-f.:]+))*"$' "$T/clients" >"$T/odd" || true
is "$(head -3 "$T/odd")" "" "client values are truncated addresses or <redacted>"
printf 'monitoring-server - - [01/Mar/2024:00:00:00 +0000] "GET / HTTP/1.1" 200 1\n' >"$T/host.log"
run 0 parse "$T/host.log"
unlike "$T/out" 'monitoring-server' "a host name client is never printed"
printf '203.0.113.5 - - [01/Mar/2024:00:00:00 +0000] "GET / HTTP/1.1" 2x0 1\n' >"$T/bad.log"
run 0 parse -f common "$T/bad.log"
like "$T/out" '^\{"line":1,"error":"status: column [0-9]+"\}$' "malformed line as an error object"
unlike "$T/out" '203\.0\.113\.5' "the error never quotes the address"

# stdin, gzip, several files, -v.
run_in 0 "$F/nginx-lists.log" parse
same_file "$T/out" "$F/nginx-lists.json" "standard input"
gzip -c "$F/caddy.log" >"$T/caddy.log.gz"
run 0 parse "$T/caddy.log.gz"
same_file "$T/out" "$F/caddy.json" "gzip input is read"
run 0 parse "$F/edge.log" "$F/nginx-lists.log"
like "$T/out" '^\{"file":"[^"]*edge\.log","line":1,' "several files: records name their file"
is "$(grep -c '"file":"[^"]*nginx-lists.log"' "$T/out")" 7 "several files: all records"
run 0 -v parse --check "$F/caddy.log"
like "$T/err" 'caddy\.log: format json' "-v says which format was detected"
run 0 parse "$F/caddy.log"
is "$(wc -c <"$T/err" | tr -d ' ')" 0 "quiet on stderr without -v"

# Exit codes.
run 2 parse -f '%h %Z' "$F/edge.log"
is "$(cat "$T/err")" "retention: parse: format: column 4: unknown directive '%Z'" "bad -f: message"
run 2 parse -f 'regex:(?<nope>x)' "$F/edge.log"
like "$T/err" "unknown group name 'nope'" "bad regex group"
run 2 parse --frobnicate
like "$T/err" "unknown option" "unknown option"
run 1 parse "$T/does-not-exist.log"
like "$T/err" 'does-not-exist' "missing file named"
run 1 parse "$T/does-not-exist.log" "$F/nginx-lists.log"
is "$(grep -c '"line"' "$T/out")" 7 "a missing file does not stop the others"
printf 'garbage\n' | gzip -c | head -c 20 >"$T/cut.gz"
run 1 parse --check "$T/cut.gz"
run 0 parse --check "$F/iis-noheader-crlf.log"
like "$T/out" 'malformed: 6' "malformed lines are not an error"

# Every JSON line is valid JSON (when python3 is there to say so).
if command -v python3 >/dev/null 2>&1; then
    if python3 -c '
import json, sys
for name in sys.argv[1:]:
    for line in open(name, encoding="utf-8"):
        json.loads(line)
' "$F"/*.json 2>"$T/pyerr"; then ok 0 "every output line is valid JSON"
    else ok 1 "every output line is valid JSON"; sed 's/^/#   /' "$T/pyerr" | tail -3; fi
else
    ok 0 "# SKIP python3 not installed"
fi

# retention formats.
run 0 formats
like "$T/out" '^combined +%h %l %u %t "%r" %>s %b "%\{Referer\}i" "%\{User-Agent\}i"$' "formats: combined"
like "$T/out" '^nginx +nginx:\$remote_addr - \$remote_user \[\$time_local\]' "formats: nginx"
for p in auto common vhost_combined vhost_combined_noport nginx_main json w3c haproxy; do
    like "$T/out" "^$p " "formats lists $p"
done
run 2 formats extra
like "$T/err" "unexpected argument 'extra'" "formats takes no argument"

done_testing
