#!/bin/sh
# stats-html.sh - the HTML report in headless Chromium: charts present,
# no console errors, no network requests, payloads from the log inert.
. "$top_srcdir/tests/cli/lib.sh"

CHROMIUM=
for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then
        CHROMIUM=$(command -v "$c")
        break
    fi
done

# A log whose path, referrer and user agent carry markup.
cat >"$T/xss.log" <<'LOG'
10.1.1.1 - - [12/Nov/2026:10:00:00 +0000] "GET /<script>alert(1)</script> HTTP/1.1" 200 5 "https://\"><img src=x onerror=alert(2)>/p\"<svg onload=alert(3)>" "<script>alert(4)</script>\"><img src=y onerror=alert(5)>"
10.1.1.2 - - [12/Nov/2026:11:00:00 +0000] "GET /\"><img src=z onerror=alert(6)> HTTP/1.1" 404 5 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
10.1.1.3 - - [13/Nov/2026:11:00:00 +0000] "GET /kontakt HTTP/1.1" 200 5 "-" "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
LOG
run 0 stats ingest -d "$T/s.db" -f combined --full-referrer "$T/xss.log"
run 0 stats report -d "$T/s.db" -F html -o "$T/report.html" --top 0
check "the report is written" test -s "$T/report.html"
like "$T/report.html" '^<!DOCTYPE html>' "an HTML document"
like "$T/report.html" "Content-Security-Policy\" content=\"default-src 'none'" "a CSP forbids every fetch"
unlike "$T/report.html" '<script|<img|<link|@import|url\(' "no scripts, images, links or imports"
unlike "$T/report.html" '<svg onload' "markup from the log is escaped"
like "$T/report.html" '&lt;script&gt;alert\(1\)' "the path payload is shown as text"
n=$(grep -o '<svg ' "$T/report.html" | wc -l | tr -d ' ')
check "charts: days, hours, status, browsers ($n)" test "$n" -ge 4

if [ -z "$CHROMIUM" ]; then
    echo "# chromium not installed: the browser checks are skipped"
    done_testing
    exit $?
fi
set -- --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run \
    --disable-default-apps --disable-extensions \
    "--host-resolver-rules=MAP * ~NOTFOUND" "--user-data-dir=$T/chr" \
    --enable-logging=stderr --v=0
set +e
timeout 60 "$CHROMIUM" "$@" --dump-dom "file://$T/report.html" \
    >"$T/dom.html" 2>"$T/chr.err"
rc=$?
set -e
if [ "$rc" -ne 0 ] && [ ! -s "$T/dom.html" ]; then
    echo "# chromium failed ($rc): $(tail -3 "$T/chr.err")"
    ok 1 "chromium renders the report"
    done_testing
    exit $?
fi
ok 0 "chromium renders the report"
like "$T/dom.html" '<svg' "the rendered page has charts"
like "$T/dom.html" '<rect class="a"' "the charts have bars"
unlike "$T/dom.html" '<img|<script' "no payload became an element"
like "$T/dom.html" '&lt;script&gt;alert\(1\)&lt;/script&gt;' "the payload is inert text"
unlike "$T/chr.err" 'CONSOLE|Uncaught|Refused to|ERR_NAME_NOT_RESOLVED' "no console errors, no blocked or attempted fetches"
done_testing
