#!/bin/sh
# apache.sh - retention anonymize as Apache httpd's piped logger.
#
# Starts a private Apache (its own config and ServerRoot in the test's
# temporary directory, on 127.0.0.1 and a free port, no system config or
# service) whose CustomLog pipes into the built `retention anonymize
# --line-buffered -o FILE`, as contrib/apache/retention.conf does; sends
# APACHE_REQUESTS (default 10000) requests one after the other, each with
# its own path and a random X-Forwarded-For address, runs `apachectl -k
# graceful` in the middle, and checks that every request is logged exactly
# once, in order, with no client address in clear.
#
# Needs the Debian packages apache2 (apache2-utils for apachectl) and curl.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/server.sh"

N=${APACHE_REQUESTS:-10000}
httpd=$(command -v apache2 || command -v httpd || true)
[ -n "$httpd" ] || for p in /usr/sbin/apache2 /usr/sbin/httpd; do
    [ -x "$p" ] && httpd=$p && break
done
[ -n "$httpd" ] || skip_all "apache2 not installed (apt-get install apache2)"
command -v curl >/dev/null || skip_all "curl not installed (apt-get install curl)"
command -v timeout >/dev/null || skip_all "timeout (coreutils) not installed"
"$RETENTION" anonymize --help >/dev/null 2>&1 ||
    skip_all "retention anonymize is not built"
moddir=
for d in /usr/lib/apache2/modules /usr/lib64/httpd/modules /usr/lib/httpd/modules \
    /usr/libexec/apache2; do
    [ -f "$d/mod_mpm_prefork.so" ] && moddir=$d && break
done
[ -n "$moddir" ] || skip_all "no mod_mpm_prefork.so found for $httpd"
apachectl=$(command -v apachectl || command -v apache2ctl || true)

A="$T/apache"
mkdir -p "$A/htdocs" "$A/run" "$A/lock" "$T/logs"
echo ok >"$A/htdocs/ok.txt"
# The server's children may run as an unprivileged user: let them in.
chmod 755 "$T" "$A" "$A/htdocs"
chmod 644 "$A/htdocs/ok.txt"
user_conf=
if [ "$(id -u)" -eq 0 ]; then
    user_conf="User nobody
Group $(id -gn nobody)"
fi

# The contrib snippet, with this build's program and the test's paths.
sed -e "s#/usr/bin/retention#$RETENTION#g" \
    -e "s#/var/log/apache2/#$T/logs/#g" \
    -e "s#/run/apache2/#$A/run/#g" \
    -e 's/^#ErrorLog /ErrorLog /' \
    "$top_srcdir/contrib/apache/retention.conf" >"$A/retention.conf"
logrotate=$(command -v logrotate || { [ -x /usr/sbin/logrotate ] && echo /usr/sbin/logrotate; } || true)
sed -e "s#/var/log/apache2/#$T/logs/#g" \
    -e "s#/run/apache2/#$A/run/#g" \
    -e "s#create 0640 root adm#create 0640#" \
    "$top_srcdir/contrib/apache/logrotate" >"$A/logrotate.conf"
chmod 644 "$A/logrotate.conf"

port=$(srv_port)
cat >"$A/httpd.conf" <<EOF
ServerRoot "$A"
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile "$A/run/httpd.pid"
DefaultRuntimeDir "$A/run"
Mutex file:$A/lock default
ErrorLog "$A/error.log"
LogLevel notice core:info
# prefork: one process serves a connection and logs each request before
# it reads the next. With the threaded MPMs (event, worker) a request is
# logged after its response is sent, so that the next request of the same
# client may be logged first by another thread: Apache's own order, which
# the anonymizer keeps, is then not the order of the requests.
LoadModule mpm_prefork_module $moddir/mod_mpm_prefork.so
LoadModule authz_core_module $moddir/mod_authz_core.so
LoadModule alias_module $moddir/mod_alias.so
$user_conf
DocumentRoot "$A/htdocs"
<Directory "$A/htdocs">
    Require all granted
</Directory>
# Every request of the test gets the same small page.
AliasMatch "^/(r/|ready)" "$A/htdocs/ok.txt"
KeepAlive On
MaxKeepAliveRequests 0
Timeout 30
# The formats of the Debian configuration, and one behind a proxy.
LogFormat "%h %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" combined
LogFormat "%{X-Forwarded-For}i %l %u %t \"%r\" %>s %O \"%{Referer}i\" \"%{User-Agent}i\"" proxied
Include "$A/retention.conf"
CustomLog "|$RETENTION anonymize --line-buffered -o $T/logs/proxied.log" proxied
EOF

_rc=0; "$httpd" -t -f "$A/httpd.conf" >"$T/configtest" 2>&1 || _rc=$?
ok $_rc "apache accepts the configuration (with contrib/apache/retention.conf)"
sed 's/^/#   /' "$T/configtest" | grep -v 'Syntax OK' | head -5 || true

"$httpd" -f "$A/httpd.conf" -k start >"$T/start" 2>&1
srv_wait 10 "test -s '$A/run/httpd.pid'" || true
pid=$(cat "$A/run/httpd.pid" 2>/dev/null || true)
if [ -z "$pid" ]; then
    ok 1 "apache starts on 127.0.0.1:$port"
    cat "$T/start" "$A/error.log" "$T/logs/error.log" 2>/dev/null | sed 's/^/#   /' | head -20
    done_testing
    exit 1
fi
srv_stop_at_exit "$pid" "'$httpd' -f '$A/httpd.conf' -k stop"
_rc=0; srv_wait 10 "curl -s -o /dev/null 'http://127.0.0.1:$port/ready'"  || _rc=$?
ok $_rc "apache answers on 127.0.0.1:$port"
# The readiness probe is not part of the count.
srv_wait 10 "grep -q 'GET /ready' '$T/logs/access.log' 2>/dev/null" || true
: >"$T/mark"

srv_addresses "$N" 42 "$T/addrs"
srv_requests 1 "$N" "$port" "$T/curl.conf" "$T/addrs"
start=$(date +%s)
timeout 120 curl -s --config "$T/curl.conf" >"$T/curl.out" 2>&1 &
curl_pid=$!
srv_stop_at_exit "$curl_pid"
# At a quarter: logrotate, whose postrotate sends the anonymizer SIGHUP.
if [ -n "$logrotate" ]; then
    _rc=0; srv_wait 60 "[ \$(grep -c 'GET /r/' '$T/logs/access.log') -ge $((N / 4)) ]" || _rc=$?
    ok $_rc "a quarter of the requests are logged"
    apid=$(cat "$A/run/retention-access.pid" 2>/dev/null || true)
    check "the anonymizer wrote its pid file" test -n "$apid"
    _rc=0; "$logrotate" -f -s "$A/logrotate.state" "$A/logrotate.conf" >"$T/logrotate.out" 2>&1 || _rc=$?
    ok $_rc "logrotate -f contrib/apache/logrotate"
    sed 's/^/#   /' "$T/logrotate.out" | head -5
    check "access.log was rotated to access.log.1" test -s "$T/logs/access.log.1"
    _rc=0; srv_wait 20 "grep -q 'GET /r/' '$T/logs/access.log' 2>/dev/null" || _rc=$?
    ok $_rc "after SIGHUP the anonymizer writes access.log again"
    is "$(cat "$A/run/retention-access.pid")" "$apid" "the same anonymizer, not restarted"
fi
count() { cat "$T/logs/access.log.1" "$T/logs/access.log" 2>/dev/null | grep -c 'GET /r/' || true; }
# The graceful restart happens in the middle of the requests.
_rc=0; srv_wait 60 "[ \$(count) -ge $((N / 2)) ]" || _rc=$?
ok $_rc "half of the requests are logged"
before=$(count)
_rc=0
"${apachectl:-$httpd}" -k graceful -f "$A/httpd.conf" >"$T/graceful" 2>&1 || _rc=$?
ok $_rc "apachectl -k graceful (after $before requests)"
_rc=0; wait "$curl_pid" || _rc=$?
ok $_rc "curl sent $N requests in $(($(date +%s) - start)) s"
srv_settle "$T/logs/access.log" $((N + 1 - $(srv_lines "$T/logs/access.log.1"))) 20 || true
srv_settle "$T/logs/proxied.log" $((N + 1)) 20 || true
like "$T/logs/error.log" 'Graceful restart requested|SIGUSR1 received' "apache restarted gracefully"
# Requests for missing files: the error log names their client.
for i in 1 2 3; do
    curl -s -o /dev/null "http://127.0.0.1:$port/missing/$i" || true
done
srv_wait 10 "[ \$(grep -c 'missing/' '$T/logs/error.log') -ge 3 ]" || true

# Stopping apache closes the pipes: the anonymizers end on their own.
"$httpd" -f "$A/httpd.conf" -k stop >/dev/null 2>&1
_rc=0; srv_gone "$pid" 20 || _rc=$?
ok $_rc "apache stops"
_rc=0; srv_wait 10 "! pgrep -f -- '$T/logs' >/dev/null" || _rc=$?
ok $_rc "the piped anonymizers exit when apache closes their pipe"

cat "$T/logs/access.log.1" "$T/logs/access.log" 2>/dev/null | grep -v 'GET /ready\|GET /missing/' >"$T/access.log"
grep -v 'GET /ready\|GET /missing/' "$T/logs/proxied.log" >"$T/proxied.log"
# At the graceful restart the old anonymizer writes the last requests of
# the old children while the new one writes the first of the new: the
# file has two writers for a moment, and a line may come a few requests
# late. Every other line is in strict order, and none is lost.
srv_check_log "$T/access.log" "$N" "combined log" 5
srv_check_log "$T/proxied.log" "$N" "proxied log" 5
like "$T/access.log" '^127\.0\.0\.0 - - \[' "the client is logged as 127.0.0.0"
unlike "$T/access.log" '127\.0\.0\.1' "127.0.0.1 appears nowhere in the log"
is "$(grep -c '^127\.0\.0\.0 ' "$T/access.log")" "$N" "every line's client is truncated"
srv_check_masked "$T/proxied.log" "$T/addrs" "proxied log"
like "$T/logs/error.log" '\[client 127\.0\.0\.0:[0-9]+\] .*missing/3' "the error log, piped too, names the client truncated"
unlike "$T/logs/error.log" '127\.0\.0\.1' "127.0.0.1 appears nowhere in the error log"
cat "$A/error.log" "$T/logs/error.log" >"$T/errors" 2>/dev/null || true
unlike "$T/errors" 'retention:' "the anonymizers reported no error"
unlike "$T/errors" 'piped log program .* failed' "no piped logger failed"
grep -E 'retention:|piped log' "$T/errors" | head -5 | sed 's/^/#   /' || true

done_testing
