#!/bin/sh
# logrotate.sh - logrotate(8) on logs that retention writes or prunes.
#
# 1. contrib/apache/logrotate: a piped `retention anonymize --line-buffered
#    -o access.log` (started as contrib/apache/retention.conf starts it,
#    writing its pid file) receives LOGROTATE_LINES (default 20000) lines
#    while `logrotate -f -s STATE` rotates twice (rename, create,
#    delaycompress, compress) and postrotate sends it SIGHUP; every line
#    must be in access.log.2.gz + access.log.1 + access.log exactly once,
#    in order, anonymized.
# 2. contrib/logrotate/retention: its postrotate runs `retention run` on
#    the file just rotated; the records past the policy's limits are
#    deleted or anonymized, the others kept, in order.
#
# Needs the Debian package logrotate.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/integration/server.sh"

logrotate=$(command -v logrotate || { [ -x /usr/sbin/logrotate ] && echo /usr/sbin/logrotate; } || true)
[ -n "$logrotate" ] || skip_all "logrotate not installed (apt-get install logrotate)"
command -v mkfifo >/dev/null || skip_all "mkfifo not available"
"$RETENTION" anonymize --help >/dev/null 2>&1 ||
    skip_all "retention anonymize is not built"

N=${LOGROTATE_LINES:-20000}
L="$T/log"
mkdir -p "$L" "$T/run"

# ---- 1. SIGHUP to the piped anonymizer ---------------------------------
sed -e "s#/var/log/apache2/#$L/#g" \
    -e "s#/run/apache2/#$T/run/#g" \
    -e "s#create 0640 root adm#create 0640#" \
    "$top_srcdir/contrib/apache/logrotate" >"$T/apache.logrotate"
chmod 644 "$T/apache.logrotate"
like "$T/apache.logrotate" "kill -HUP" "the snippet's postrotate sends SIGHUP"

# Input: request i from address i, as Apache would pipe it.
srv_addresses "$N" 11 "$T/addrs"
awk -v addrs="$T/addrs" '{
    printf "%s - - [01/Dec/2026:10:%02d:%02d +0000] \"GET /r/%d?q=%d HTTP/1.1\" 200 %d \"-\" \"Mozilla/5.0\"\n",
        $0, (NR / 60) % 60, NR % 60, NR, NR, 100 + NR % 900
}' "$T/addrs" >"$T/input"

mkfifo "$T/fifo"
# Started the way contrib/apache/retention.conf starts it (pid file, exec).
sh -c 'echo $$ >"$1" && exec "$2" anonymize --line-buffered -o "$3"' sh \
    "$T/run/retention-access.pid" "$RETENTION" "$L/access.log" <"$T/fifo" &
apid=$!
srv_stop_at_exit "$apid"
exec 3>"$T/fifo"
srv_wait 10 "test -s '$T/run/retention-access.pid'" || true
is "$(cat "$T/run/retention-access.pid" 2>/dev/null)" "$apid" "the pid file names the anonymizer"

chunks=20
per=$(((N + chunks - 1) / chunks))
rotations=0
lr_pid=
lr_rc=0
i=0
while [ "$i" -lt "$chunks" ]; do
    a=$((i * per + 1))
    b=$(((i + 1) * per))
    # The last chunk follows the last rotation's end, however slow the
    # machine, so that lines are written after it.
    if [ "$i" -eq $((chunks - 1)) ] && [ -n "$lr_pid" ]; then
        wait "$lr_pid" || lr_rc=$?
        lr_pid=
    fi
    sed -n "${a},${b}p" "$T/input" >&3
    # Rotate while lines are still flowing: logrotate runs in the
    # background while the next chunks are written.
    if [ "$i" -eq $((chunks / 3)) ] || [ "$i" -eq $((2 * chunks / 3)) ]; then
        [ -z "$lr_pid" ] || wait "$lr_pid" || lr_rc=$?
        "$logrotate" -f -s "$T/state" "$T/apache.logrotate" >"$T/lr.$i.out" 2>&1 &
        lr_pid=$!
        rotations=$((rotations + 1))
    fi
    sleep 0.05
    i=$((i + 1))
done
[ -z "$lr_pid" ] || wait "$lr_pid" || lr_rc=$?
ok $lr_rc "logrotate -f ran $rotations times while lines were written"
cat "$T"/lr.*.out | sed 's/^/#   logrotate: /' | head -5
exec 3>&-
_rc=0; srv_gone "$apid" 10 || _rc=$?
ok $_rc "the anonymizer exits at the end of its input"
is "$(cat "$T/run/retention-access.pid")" "$apid" "SIGHUP did not restart the anonymizer"

check "access.log.2.gz was compressed (delaycompress)" test -s "$L/access.log.2.gz"
check "access.log.1 is not compressed yet" test -s "$L/access.log.1"
check "access.log is written again after the last rotation" test -s "$L/access.log"
{
    gzip -dc "$L/access.log.2.gz"
    cat "$L/access.log.1" "$L/access.log"
} >"$T/all.log"
srv_check_log "$T/all.log" "$N" "rotated anonymized log"
srv_check_masked "$T/all.log" "$T/addrs" "rotated anonymized log"
# Every byte but the address is as it came.
cut -d' ' -f2- "$T/input" >"$T/rest.want"
cut -d' ' -f2- "$T/all.log" >"$T/rest.got"
same_file "$T/rest.got" "$T/rest.want" "every byte but the addresses is unchanged"

# ---- 2. contrib/logrotate/retention: prune the rotated file -------------
snippet="$top_srcdir/contrib/logrotate/retention"
if [ ! -f "$snippet" ]; then
    ok 0 "# SKIP contrib/logrotate/retention is not there yet"
elif ! "$RETENTION" run --help 2>/dev/null | grep -q -- '--live-age' ||
    ! "$RETENTION" run --help 2>/dev/null | grep -q -- '--category'; then
    ok 0 "# SKIP retention run has no --live-age/--category yet"
else
    P="$T/prune"
    mkdir -p "$P/nginx" "$P/state"
    chmod 700 "$P/state"
    cat >"$P/policy.conf" <<EOF
policy {
    name       "Test"
    controller "Test GmbH"
    version    1.0
    effective  2020-01-01
    schedule   daily
    state      $P/state
}
category web-access {
    files      $P/nginx/access.log*
    format     combined
    anonymize  client-ip after 7d prefix 24/48
    statistics no
    delete     after 90d
}
EOF
    chmod 600 "$P/policy.conf"
    # Records of 120, 30 and 1 days ago, old to new, as a log grows.
    now=$(date +%s)
    : >"$P/nginx/access.log"
    for age in 120 30 1; do
        t=$((now - age * 86400))
        stamp=$(LC_ALL=C date -u -d "@$t" '+%d/%b/%Y:%H:%M:%S +0000')
        for k in 1 2 3; do
            printf '198.51.100.%d - - [%s] "GET /d%s/%d HTTP/1.1" 200 5 "-" "x"\n' \
                "$((age + k))" "$stamp" "$age" "$k" >>"$P/nginx/access.log"
        done
    done
    # Not written for an hour: the rotated file is not live.
    touch -d '1 hour ago' "$P/nginx/access.log"
    sed -e "s#/var/log/nginx/#$P/nginx/#g" \
        -e "s#/etc/logrotate.d/httpd-prerotate#$P/no-such-dir#g" \
        -e "s#invoke-rc.d nginx rotate#:#" \
        -e "s#sleep 5#:#" \
        -e "s#create 0640 www-data adm#create 0640#" \
        -e "s#/usr/bin/retention#$RETENTION -c $P/policy.conf#" \
        "$snippet" >"$P/logrotate.conf"
    chmod 644 "$P/logrotate.conf"
    _rc=0; "$logrotate" -f -s "$P/state.lr" "$P/logrotate.conf" >"$P/lr.out" 2>&1 || _rc=$?
    ok $_rc "logrotate -f contrib/logrotate/retention"
    sed 's/^/#   /' "$P/lr.out" | head -10
    r="$P/nginx/access.log.1"
    check "access.log was rotated to access.log.1" test -f "$r"
    unlike "$r" '/d120/' "records past 90 days are deleted from the rotated file"
    like "$r" '^198\.51\.100\.0 .*/d30/1 ' "records past 7 days are anonymized"
    unlike "$r" '198\.51\.100\.3[1-3] ' "no address past 7 days is left in clear"
    is "$(grep -c '/d1/' "$r" || true)" 3 "records within every limit are kept"
    is "$(sed -n 's#.*"GET /d\([0-9]*\)/\([0-9]\) .*#\1.\2#p' "$r" | tr '\n' ' ')" \
        "30.1 30.2 30.3 1.1 1.2 1.3 " "the kept records are in their order"
fi

done_testing
