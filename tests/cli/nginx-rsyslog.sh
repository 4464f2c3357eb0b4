#!/bin/sh
# nginx-rsyslog.sh - nginx logs to syslog, rsyslog hands the lines to
# retention anonymize through omprog.
#
# Starts a private nginx (127.0.0.1, a free port, its own prefix) whose
# access log is contrib/nginx/retention.conf, and a private rsyslogd (-f
# its own config, -i its own pid file, -n, no system logging) that runs
# contrib/rsyslog/retention.conf: imudp on the loopback, omprog with the
# built `retention anonymize --line-buffered -o FILE`. Sends NGINX_REQUESTS
# (default 10000) requests one after the other, one in five from another
# loopback address, and in the middle
#  - rotates the output with contrib/rsyslog/logrotate, whose postrotate
#    sends rsyslogd SIGHUP (passed on to the anonymizer, which reopens its
#    file), and
#  - terminates the anonymizer (rsyslog starts it again);
# then checks that every request is logged exactly once, in order, with
# no client address in clear. Then NGINX_EDGE_REQUESTS (default 1000) go
# the way of a fleet: nginx, an edge rsyslog (contrib/rsyslog/edge.conf)
# forwarding over TCP, the central one (retention.conf with its imtcp
# input enabled), the anonymizer.
#
# Needs the Debian packages nginx, rsyslog and curl (and logrotate).
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/server.sh"

N=${NGINX_REQUESTS:-10000}
M=${NGINX_EDGE_REQUESTS:-1000}
find_prog() {
    command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || true
}
nginx=$(find_prog nginx)
rsyslogd=$(find_prog rsyslogd)
[ -n "$nginx" ] || skip_all "nginx not installed (apt-get install nginx)"
[ -n "$rsyslogd" ] || skip_all "rsyslog not installed (apt-get install rsyslog)"
command -v curl >/dev/null || skip_all "curl not installed (apt-get install curl)"
command -v timeout >/dev/null || skip_all "timeout (coreutils) not installed"
"$RETENTION" anonymize --help >/dev/null 2>&1 ||
    skip_all "retention anonymize is not built"

R="$T/rsyslog"
E="$T/edge"
X="$T/nginx"
mkdir -p "$R/work" "$E/work" "$X/logs" "$X/tmp" "$T/logs"
chmod 755 "$T"
# Five distinct free ports.
ports=" "
while [ "$(echo $ports | wc -w)" -lt 5 ]; do
    p=$(srv_port)
    case $ports in *" $p "*) ;; *) ports="$ports$p " ;; esac
done
set -- $ports
udp=$1 http=$2 tcp=$3 eudp=$4 ehttp=$5

# The contrib files, with this test's ports, program and paths.
sed -e "s#\"5140\"#\"$udp\"#g" \
    -e "s#/usr/bin/retention#$RETENTION#g" \
    -e "s#/var/log/retention/#$T/logs/#g" \
    -e 's/^#\(module(load="imtcp")\)/\1/' \
    -e "s/^#\\(input(type=\"imtcp\" address=\"127.0.0.1\" port=\\)\"6514\"/\\1\"$tcp\"/" \
    "$top_srcdir/contrib/rsyslog/retention.conf" >"$R/retention.conf"
sed -e "s#\"5140\"#\"$eudp\"#g" \
    -e "s#\"loghost.invalid\"#\"127.0.0.1\"#" \
    -e "s#\"6514\"#\"$tcp\"#" \
    "$top_srcdir/contrib/rsyslog/edge.conf" >"$E/edge.conf"
sed -e "s#127.0.0.1:5140#127.0.0.1:$udp#g" \
    "$top_srcdir/contrib/nginx/retention.conf" >"$X/retention.conf"
sed -e "s#127.0.0.1:5140#127.0.0.1:$eudp#g" \
    "$top_srcdir/contrib/nginx/retention.conf" >"$X/retention-edge.conf"

cat >"$R/rsyslog.conf" <<EOF
global(workDirectory="$R/work" maxMessageSize="64k")
include(file="$R/retention.conf")
EOF
_rc=0; "$rsyslogd" -N1 -f "$R/rsyslog.conf" >"$T/rsyslog-check" 2>&1 || _rc=$?
ok $_rc "rsyslogd -N1 accepts contrib/rsyslog/retention.conf"
[ "$_rc" -eq 0 ] || sed 's/^/#   /' "$T/rsyslog-check" | head -10
like "$R/retention.conf" "^input.type=.imtcp. address=.127.0.0.1. port=.$tcp." \
    "the central host's TCP input is enabled, on 127.0.0.1"
printf 'global(workDirectory="%s")\ninclude(file="%s")\n' "$E/work" "$E/edge.conf" \
    >"$E/rsyslog.conf"
_rc=0; "$rsyslogd" -N1 -f "$E/rsyslog.conf" >"$T/rsyslog-check" 2>&1 || _rc=$?
ok $_rc "rsyslogd -N1 accepts contrib/rsyslog/edge.conf"
[ "$_rc" -eq 0 ] || sed 's/^/#   /' "$T/rsyslog-check" | head -10

user=
[ "$(id -u)" -eq 0 ] && user="user nobody $(id -gn nobody);"
cat >"$X/nginx.conf" <<EOF
$user
worker_processes 1;
daemon off;
pid $X/nginx.pid;
error_log $X/logs/error.log notice;
events { worker_connections 128; }
http {
    client_body_temp_path $X/tmp/body;
    proxy_temp_path $X/tmp/proxy;
    fastcgi_temp_path $X/tmp/fastcgi;
    uwsgi_temp_path $X/tmp/uwsgi;
    scgi_temp_path $X/tmp/scgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$http;
        include $X/retention.conf;
        location / { return 200 "ok\n"; }
        location /missing/ { root $X/no-such-dir; }
    }
    # A web server of the fleet, logging to its edge rsyslog.
    server {
        listen 127.0.0.1:$ehttp;
        include $X/retention-edge.conf;
        location / { return 200 "ok\n"; }
    }
}
EOF
_rc=0; "$nginx" -t -p "$X" -e "$X/logs/error.log" -c "$X/nginx.conf" >"$T/nginx-check" 2>&1 || _rc=$?
ok $_rc "nginx -t accepts contrib/nginx/retention.conf"
sed 's/^/#   /' "$T/nginx-check" | grep -v 'syntax is ok\|test is successful' | head -10 || true

"$rsyslogd" -n -f "$R/rsyslog.conf" -i "$R/rsyslogd.pid" >"$T/rsyslog.out" 2>&1 &
rpid=$!
srv_stop_at_exit "$rpid"
"$rsyslogd" -n -f "$E/rsyslog.conf" -i "$E/rsyslogd.pid" >"$T/edge.out" 2>&1 &
epid=$!
srv_stop_at_exit "$epid"
"$nginx" -p "$X" -e "$X/logs/error.log" -c "$X/nginx.conf" >"$T/nginx.out" 2>&1 &
npid=$!
srv_stop_at_exit "$npid"
_rc=0; srv_wait 10 "curl -s -o /dev/null 'http://127.0.0.1:$http/ready'" || _rc=$?
ok $_rc "nginx answers on 127.0.0.1:$http"
# rsyslog starts the anonymizer with the first line.
_rc=0; srv_wait 15 "grep -q 'GET /ready' '$T/logs/access.log' 2>/dev/null" || _rc=$?
ok $_rc "the first line arrives through rsyslog and the anonymizer"
# The anonymizer of the access log (another one masks the error log).
child() {
    for _c in $(pgrep -P "$rpid"); do
        grep -q 'access\.log' "/proc/$_c/cmdline" 2>/dev/null && echo "$_c" && break
    done
    true
}
c1=$(child)
check "rsyslog runs the anonymizer as its child" test -n "$c1"

srv_loopbacks "$N" 7 "$T/addrs"
half=$((N / 2))
srv_requests 1 "$half" "$http" "$T/curl1.conf" "$T/addrs" interface
srv_requests $((half + 1)) "$N" "$http" "$T/curl2.conf" "$T/addrs" interface
count() { cat "$T/logs/access.log.1" "$T/logs/access.log" 2>/dev/null | grep -c 'GET /r/' || true; }

# 1. Under load: logrotate renames, its postrotate sends rsyslogd SIGHUP.
start=$(date +%s)
timeout 100 curl -s --config "$T/curl1.conf" >"$T/curl.out" 2>&1 &
curl_pid=$!
srv_stop_at_exit "$curl_pid"
_rc=0; srv_wait 60 "[ \$(count) -ge $((N / 4)) ]" || _rc=$?
ok $_rc "a quarter of the requests are logged"
logrotate=$(command -v logrotate || { [ -x /usr/sbin/logrotate ] && echo /usr/sbin/logrotate; } || true)
if [ -n "$logrotate" ]; then
    sed -e "s#/var/log/retention/#$T/logs/#g" \
        -e "s#/run/rsyslogd.pid#$R/rsyslogd.pid#g" \
        "$top_srcdir/contrib/rsyslog/logrotate" >"$R/logrotate.conf"
    chmod 644 "$R/logrotate.conf"
    _rc=0; "$logrotate" -f -s "$R/logrotate.state" "$R/logrotate.conf" >"$T/lr.out" 2>&1 || _rc=$?
    ok $_rc "logrotate -f contrib/rsyslog/logrotate (its postrotate: SIGHUP to rsyslogd)"
    sed 's/^/#   /' "$T/lr.out" | head -5
else
    mv "$T/logs/access.log" "$T/logs/access.log.1"
    kill -HUP "$rpid"
    ok 0 "# SKIP logrotate not installed: renamed and sent SIGHUP by hand"
fi
_rc=0; srv_wait 20 "[ -s '$T/logs/access.log' ]" || _rc=$?
ok $_rc "after SIGHUP the anonymizer writes a new access.log"
is "$(child)" "$c1" "SIGHUP does not restart the anonymizer"
_rc=0; wait "$curl_pid" || _rc=$?
ok $_rc "curl sent $half requests in $(($(date +%s) - start)) s"
_rc=0; srv_wait 30 "[ \$(count) -ge $half ]" || _rc=$?
ok $_rc "the first half is logged"

# 2. The anonymizer is terminated; rsyslog starts another with the next
# line, and that line is not lost.
kill -TERM "$c1"
srv_gone "$c1" 10 || true
start=$(date +%s)
timeout 100 curl -s --config "$T/curl2.conf" >"$T/curl.out" 2>&1 &
curl_pid=$!
srv_stop_at_exit "$curl_pid"
_rc=0; srv_wait 20 "c2=\$(child); [ -n \"\$c2\" ] && [ \"\$c2\" != '$c1' ]" || _rc=$?
ok $_rc "rsyslog restarts the terminated anonymizer"
_rc=0; wait "$curl_pid" || _rc=$?
ok $_rc "curl sent $((N - half)) more requests in $(($(date +%s) - start)) s"
srv_wait 30 "[ \$(count) -ge $N ]" || true

# The error log: a request for a missing file names its client.
for i in 1 2 3; do
    curl -s -o /dev/null --interface 127.9.8.7 "http://127.0.0.1:$http/missing/$i" || true
done
_rc=0; srv_wait 20 "[ \$(grep -c 'missing/' '$T/logs/error.log' 2>/dev/null || echo 0) -ge 3 ]" || _rc=$?
ok $_rc "nginx's error log arrives through rsyslog"

# 3. The fleet: nginx, edge rsyslog, TCP, central rsyslog, anonymizer.
SRV_PATH=e
srv_requests 1 "$M" "$ehttp" "$T/curl3.conf"
ecount() { grep -c 'GET /e/' "$T/logs/access.log" 2>/dev/null || true; }
_rc=0; timeout 60 curl -s --config "$T/curl3.conf" >"$T/curl.out" 2>&1 || _rc=$?
ok $_rc "curl sent $M requests to the web server of the edge host"
_rc=0; srv_wait 30 "[ \$(ecount) -ge $M ]" || _rc=$?
ok $_rc "they arrive through the edge and the central host"
SRV_PATH=
sleep 1

# Stopping rsyslog closes the pipe: the anonymizer ends on its own.
kill -TERM "$npid"
c2=$(child)
kill -TERM "$epid"
srv_gone "$epid" 20 || true
kill -TERM "$rpid"
_rc=0; srv_gone "$rpid" 20 || _rc=$?
ok $_rc "rsyslogd stops"
_rc=0; [ -z "$c2" ] || srv_gone "$c2" 10 || _rc=$?
ok $_rc "the anonymizer exits when rsyslog closes its pipe"

cat "$T/logs/access.log.1" "$T/logs/access.log" | grep -v 'GET /ready' >"$T/both.log"
grep -v 'GET /e/\|GET /missing/' "$T/both.log" >"$T/all.log" || true
grep 'GET /e/' "$T/both.log" >"$T/edge.log" || true
srv_check_log "$T/all.log" "$N" "nginx log through rsyslog"
check "the rotated part holds lines" grep -q 'GET /r/' "$T/logs/access.log.1"
like "$T/all.log" '^127\.0\.0\.0 - - \[' "the client is logged as 127.0.0.0"
unlike "$T/all.log" '127\.0\.0\.1' "127.0.0.1 appears nowhere in the log"
srv_check_masked "$T/all.log" "$T/addrs" "nginx log"
like "$T/all.log" '^127\.[0-9]+\.[0-9]+\.0 - - \[.*\] "GET /r/[0-9]+\?q=[0-9]+ HTTP/1\.1" 200 3 "-" "curl/' \
    "lines are the combined format nginx wrote"
SRV_PATH=e
srv_check_log "$T/edge.log" "$M" "fleet log through edge and central rsyslog"
SRV_PATH=
unlike "$T/edge.log" '127\.0\.0\.1' "fleet log: 127.0.0.1 appears nowhere"
like "$T/edge.log" '^127\.0\.0\.0 - - \[' "fleet log: the client is logged as 127.0.0.0"
like "$T/logs/error.log" 'client: 127\.9\.8\.0, .*missing/3' "the error log names the client truncated"
unlike "$T/logs/error.log" '127\.9\.8\.7|127\.0\.0\.1' "no client address in clear in the error log"
if [ -f "$T/logs/anonymize-nginx.err" ]; then
    unlike "$T/logs/anonymize-nginx.err" 'retention:' "the anonymizer reported no error"
fi
sed 's/^/#   rsyslog: /' "$T/rsyslog.out" | head -10

done_testing
