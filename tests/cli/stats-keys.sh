#!/bin/sh
# stats-keys.sh - methods and protocols, counted through the fast paths
# of stats ingest (the common ones in arrays, others as keys), end up
# under their own names with their own counts.
. "$top_srcdir/tests/cli/lib.sh"

# method i appears i times, protocol j appears 10 * j times
awk 'BEGIN {
    nm = split("GET POST HEAD PUT DELETE OPTIONS PATCH CONNECT PROPFIND GETX", M, " ")
    np = split("HTTP/1.1 HTTP/1.0 HTTP/2.0 HTTP/2 HTTP/3.0 HTTP/3 HTTP/0.9 HTTP/1.2", P, " ")
    t = 0
    for (i = 1; i <= nm; i++)
        for (k = 0; k < i; k++) {
            printf "192.0.2.%d - - [10/Nov/2026:10:%02d:%02d +0000] \"%s /m HTTP/1.1\" 200 7 \"-\" \"curl/8.5.0\"\n", i, int(t / 60) % 60, t % 60, M[i]
            t++
        }
    for (j = 1; j <= np; j++)
        for (k = 0; k < 10 * j; k++) {
            printf "198.51.100.%d - - [10/Nov/2026:11:%02d:%02d +0000] \"GET /p %s\" 200 3 \"-\" \"curl/8.5.0\"\n", j, int(t / 60) % 60, t % 60, P[j]
            t++
        }
}' >"$T/access.log"

run 0 stats ingest -d "$T/s.db" -f combined "$T/access.log"
run 0 stats report -d "$T/s.db" -F csv --top 100
# GET: 1 of its own plus the 360 protocol lines
cat >"$T/methods.want" <<'W'
CONNECT,8
DELETE,5
GET,361
GETX,10
HEAD,3
OPTIONS,6
PATCH,7
POST,2
PROPFIND,9
PUT,4
W
csv_list() { # csv_list SECTION: "key,hits" lines of the report, sorted
    awk -F, -v s="$1" '$1 == s { gsub(/"/, "", $2); print $2 "," $4 }' \
        "$T/out" | sort
}
csv_list methods >"$T/methods.got"
same_file "$T/methods.got" "$T/methods.want" "methods and their hits"
cat >"$T/proto.want" <<'W'
HTTP/0.9,70
HTTP/1.0,20
HTTP/1.1,65
HTTP/1.2,80
HTTP/2,40
HTTP/2.0,30
HTTP/3,60
HTTP/3.0,50
W
csv_list protocols >"$T/proto.got"
same_file "$T/proto.got" "$T/proto.want" "protocols and their hits"
done_testing
