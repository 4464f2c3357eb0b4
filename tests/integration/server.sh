# server.sh - helpers of the tests that start real servers (Apache, nginx,
# rsyslog). Source it after tests/cli/lib.sh. Servers bind only to
# 127.0.0.1, on ports found free here; every process started through
# these helpers is stopped when the test exits, however it exits.

# The processes to stop at exit, one a line: "PID SHELL-CODE-TO-STOP-IT".
_srv_stops="$T/.srv-stops"
: >"$_srv_stops"

srv_cleanup() {
    _srv_rc=$?
    set +e
    if [ -f "$_srv_stops" ]; then
        while read -r _p _code; do
            [ -n "$_code" ] && eval "$_code" >/dev/null 2>&1
        done <"$_srv_stops"
        while read -r _p _code; do
            kill -0 "$_p" 2>/dev/null && kill -TERM "$_p" 2>/dev/null
        done <"$_srv_stops"
        while read -r _p _code; do
            _i=0
            while kill -0 "$_p" 2>/dev/null && [ "$_i" -lt 50 ]; do
                sleep 0.1
                _i=$((_i + 1))
            done
            kill -KILL "$_p" 2>/dev/null
        done <"$_srv_stops"
    fi
    rm -rf "$T"
    exit "$_srv_rc"
}
trap srv_cleanup EXIT
trap 'exit 1' INT TERM HUP

# srv_stop_at_exit PID [SHELL-CODE]: stops PID when the test exits: runs
# SHELL-CODE, then SIGTERM, then after 5 s SIGKILL.
srv_stop_at_exit() {
    printf '%s %s\n' "$1" "${2:-}" >>"$_srv_stops"
}

# srv_port: a TCP and UDP port in 20000..59999 that nothing listens on.
srv_port() {
    _i=0
    while [ "$_i" -lt 200 ]; do
        _p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
        _p=$((20000 + _p % 40000))
        _h=$(printf '%04X' "$_p")
        if ! cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null |
            awk '{print $2}' | grep -q ":$_h\$"; then
            echo "$_p"
            return 0
        fi
        _i=$((_i + 1))
    done
    echo "srv_port: no free port found" >&2
    return 1
}

# srv_wait SECONDS SHELL-CONDITION: polls every 0.1 s until the condition
# holds (returns 0) or the time is up (returns 1).
srv_wait() {
    _n=$(($1 * 10))
    _i=0
    while [ "$_i" -lt "$_n" ]; do
        if eval "$2"; then return 0; fi
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

# srv_lines FILE: number of lines of FILE, 0 when it does not exist.
srv_lines() {
    if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi
}

# srv_settle FILE WANT SECONDS: waits until FILE has WANT lines, or stops
# growing for 2 s, or SECONDS pass.
srv_settle() {
    _n=$(($3 * 10))
    _i=0
    _last=-1
    _still=0
    while [ "$_i" -lt "$_n" ]; do
        _c=$(srv_lines "$1")
        [ "$_c" -ge "$2" ] && return 0
        if [ "$_c" -eq "$_last" ]; then
            _still=$((_still + 1))
            [ "$_still" -ge 20 ] && return 1
        else
            _still=0
        fi
        _last=$_c
        sleep 0.1
        _i=$((_i + 1))
    done
    return 1
}

# srv_gone PID SECONDS: waits until PID has exited.
srv_gone() {
    srv_wait "$2" "! kill -0 $1 2>/dev/null"
}

# srv_requests FROM TO PORT FILE [ADDRS [interface]]: a curl config that
# asks for /r/FROM?q=FROM .. /r/TO?q=TO of http://127.0.0.1:PORT, one
# after the other; with ADDRS (a file of addresses, line i for request i)
# request i sends its address as X-Forwarded-For, or with "interface"
# connects from that loopback address (Linux answers on all of
# 127.0.0.0/8).
srv_requests() {
    awk -v from="$1" -v to="$2" -v port="$3" -v addrs="${5:-}" \
        -v mode="${6:-header}" -v path="${SRV_PATH:-r}" 'BEGIN {
        for (i = 1; i <= to; i++) {
            a = ""
            if (addrs != "" && (getline a <addrs) <= 0)
                a = ""
            if (i < from)
                continue
            printf "url = \"http://127.0.0.1:%d/%s/%d?q=%d\"\n", port, path, i, i
            printf "output = \"/dev/null\"\n"
            if (a != "" && mode == "interface")
                printf "interface = \"%s\"\n", a
            else if (a != "")
                printf "header = \"X-Forwarded-For: %s\"\n", a
            if (i < to)
                print "next"
        }
    }' >"$4"
}

# srv_addresses N SEED FILE: N random client addresses, one in ten IPv6
# (2001:db8:XXXX:...), the others IPv4 with a non-zero host byte.
srv_addresses() {
    awk -v n="$1" -v seed="$2" 'BEGIN {
        srand(seed)
        for (i = 1; i <= n; i++) {
            if (i % 10 == 7)
                printf "2001:db8:%x:%x:%x:%x:%x:%x\n", 4096 + int(rand() * 61439),
                    1 + int(rand() * 65534), 1 + int(rand() * 65534),
                    1 + int(rand() * 65534), 1 + int(rand() * 65534),
                    1 + int(rand() * 65534)
            else
                printf "%d.%d.%d.%d\n", 1 + int(rand() * 222), int(rand() * 256),
                    int(rand() * 256), 1 + int(rand() * 254)
        }
    }' >"$3"
}

# srv_loopbacks N SEED FILE: N client addresses in 127.0.0.0/8, mostly
# 127.0.0.1 (kept-alive connections), one in five another one.
srv_loopbacks() {
    awk -v n="$1" -v seed="$2" 'BEGIN {
        srand(seed)
        for (i = 1; i <= n; i++) {
            if (i % 5 == 3)
                printf "127.%d.%d.%d\n", int(rand() * 256), int(rand() * 256),
                    2 + int(rand() * 253)
            else
                print "127.0.0.1"
        }
    }' >"$3"
}

# srv_masked ADDRS FILE: the addresses truncated to the default prefixes
# (IPv4 /24, IPv6 /48), in RFC 5952 text.
srv_masked() {
    awk -F'[.:]' '/:/ { printf "%s:%s:%s::\n", $1, $2, $3; next }
        { printf "%s.%s.%s.0\n", $1, $2, $3 }' "$1" >"$2"
}

# srv_check_log LOG N DESC [SLACK]: LOG holds one line per request /r/1
# .. /r/N (/$SRV_PATH/... when it is set), each exactly once, in order.
# With SLACK, a line may come at most SLACK places after a later request
# (two writers of one file for a moment: Apache's graceful restart).
srv_check_log() {
    sed -n "s#^.*\"GET /${SRV_PATH:-r}/\\([0-9]*\\)?q=[0-9]* HTTP/[0-9.]*\".*\$#\\1#p" "$1" >"$T/seq.got"
    seq 1 "$2" >"$T/seq.want"
    sort "$T/seq.want" >"$T/seq.want.s"
    is "$(srv_lines "$1")" "$2" "$3: $2 lines"
    sort -n "$T/seq.got" >"$T/seq.sorted"
    if cmp -s "$T/seq.sorted" "$T/seq.want"; then
        ok 0 "$3: every request exactly once"
    else
        ok 1 "$3: every request exactly once"
        echo "#   requests logged: $(wc -l <"$T/seq.got"), distinct: $(sort -u "$T/seq.got" | wc -l)"
        echo "#   duplicated: $(sort -n "$T/seq.got" | uniq -d | head -10 | tr '\n' ' ')"
        echo "#   missing: $(sort "$T/seq.got" | comm -13 - "$T/seq.want.s" | sort -n | head -10 | tr '\n' ' ')"
    fi
    _slack=${4:-0}
    if awk -v slack="$_slack" '
        { if ($1 < max) { late++; d = max - $1; if (d > worst) worst = d
                          if (late <= 5) print "#   line " NR ": request " $1 " after " max }
          else max = $1 }
        END { if (late) print "#   " late " lines late, by at most " worst " requests"
              exit (worst > slack) ? 1 : 0 }' "$T/seq.got" >"$T/order.diag"; then
        if [ "$_slack" -gt 0 ]; then
            ok 0 "$3: in order (a line at most $_slack requests late)"
        else
            ok 0 "$3: in order"
        fi
    else
        ok 1 "$3: in order"
    fi
    cat "$T/order.diag"
}

# srv_check_masked LOG ADDRS DESC: the line of request i starts with
# address i of ADDRS truncated, and address i appears nowhere in it.
srv_check_masked() {
    srv_masked "$2" "$T/masked"
    paste -d' ' "$2" "$T/masked" >"$T/pairs"
    awk -v path="${SRV_PATH:-r}" '
    FNR == NR { addr[FNR] = $1; mask[FNR] = $2; next }
    {
        if (!match($0, "\"GET /" path "/[0-9]+")) { extra++; next }
        i = substr($0, RSTART + length(path) + 7, RLENGTH - length(path) - 7) + 0
        if (!(i in addr)) { extra++; next }
        split($0, f, " ")
        if (f[1] != mask[i]) { bad++; if (bad <= 5) print "#   request " i ": " f[1] " is not " mask[i] }
        if (index($0, addr[i])) { clear++; if (clear <= 5) print "#   request " i " holds " addr[i] " in clear" }
    }
    END { if (extra) print "#   " extra " lines of no request"
          exit (bad + clear + extra) ? 1 : 0 }' "$T/pairs" "$1" >"$T/masked.diag" && _rc=0 || _rc=1
    ok "$_rc" "$3: every client address truncated, none in clear"
    cat "$T/masked.diag"
}
