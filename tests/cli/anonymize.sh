#!/bin/sh
# anonymize.sh - retention anonymize end to end: formats, fail closed,
# bytes kept, gzip, -o, --in-place, --strict, --stats, hash and key
# files, and the invariant that no full client address reaches the
# output, standard error or the statistics.
. "$top_srcdir/tests/cli/lib.sh"

D="$DATA/anonymize"
GEN="$top_builddir/bench/gen-log"

# ---- a combined log with an X-Forwarded-For field, exact output
cat >"$T/xff.log" <<'X'
192.0.2.133 - - [01/Dec/2026:10:00:00 +0000] "GET /?ip=198.51.100.99 HTTP/1.1" 200 5 "http://203.0.113.50/" "curl/8.0" "198.51.100.7, 2001:db8:1:2::3"
2001:DB8:ABCD:1234::1 - bob [01/Dec/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.0" "-"
X
cat >"$T/xff.exp" <<'X'
192.0.2.0 - - [01/Dec/2026:10:00:00 +0000] "GET /?ip=198.51.100.99 HTTP/1.1" 200 5 "http://203.0.113.50/" "curl/8.0" "198.51.100.0, 2001:db8:1::"
2001:db8:abcd:: - bob [01/Dec/2026:10:00:01 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8.0" "-"
X
fmt='%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" "%{X-Forwarded-For}i"'
run_in 0 "$T/xff.log" anonymize -f "$fmt"
same_file "$T/out" "$T/xff.exp" "client and X-Forwarded-For masked, nothing else"
is "$(wc -c <"$T/err" | tr -d ' ')" 0 "quiet on success"
run_in 0 "$T/xff.log" anonymize -f "$fmt" --scan-all
like "$T/out" 'ip=198\.51\.100\.0 ' "--scan-all: query string masked"
like "$T/out" 'http://203\.0\.113\.0/' "--scan-all: referrer masked"
run_in 0 "$T/xff.log" anonymize -f "$fmt" --ipv4-prefix 16 --ipv6-prefix 32
like "$T/out" '^192\.0\.0\.0 - - ' "--ipv4-prefix 16"
like "$T/out" '^2001:db8:: - bob' "--ipv6-prefix 32"
run_in 0 "$T/xff.log" anonymize -f "$fmt" -m zero
like "$T/out" '^0\.0\.0\.0 - - ' "--method zero (v4)"
like "$T/out" '^:: - bob' "--method zero (v6)"
run 2 anonymize --ipv4-prefix 33
run 2 anonymize -m scramble
like "$T/err" "truncate, zero or hash" "unknown method"
run 2 anonymize -f '%{' </dev/null
run 2 anonymize -i
run 2 anonymize -i -o x a.log
run 2 anonymize --frobnicate
cp "$T/xff.log" "$T/same.log"
run 2 anonymize -o "$T/same.log" "$T/same.log"
like "$T/err" "also an input" "-o onto an input refused"
run 0 anonymize --help
like "$T/out" '^Usage: retention anonymize' "--help"

# ---- the corpus: auto-detected formats, XFF lists in the client field
run 0 anonymize "$D/beats-nginx-test.log"
for a in 10.0.0.2 10.0.0.1 127.0.0.1 172.17.0.1 85.181.35.98 10.5.102.222 \
    199.96.1.1 204.246.1.1 10.2.1.185 2a03:0000:10ff:f00f 10.225.192.17 10.2.2.121; do
    unlike "$T/out" "(^|[^0-9a-f.:])$a([^0-9]|$)" "beats nginx: $a masked"
done
is "$(sed 's/^[^[]*\[//' "$T/out" | md5sum)" "$(sed 's/^[^[]*\[//' "$D/beats-nginx-test.log" | md5sum)" \
    "beats nginx: the rest of each line unchanged"
run 0 anonymize "$D/elastic-apache-300.log"
cut -d' ' -f1 "$D/elastic-apache-300.log" | grep -v '\.0$' | sort -u >"$T/clients"
if grep -qwF -f "$T/clients" "$T/out"; then ok 1 "elastic apache: no client address left"
else ok 0 "elastic apache: no client address left"; fi
is "$(cut -d' ' -f2- "$T/out" | md5sum)" "$(cut -d' ' -f2- "$D/elastic-apache-300.log" | md5sum)" \
    "elastic apache: every other byte unchanged"
is "$(wc -l <"$T/out" | tr -d ' ')" 300 "elastic apache: every line"

# ---- fail closed and bytes kept (more cases in tests/unit/anonymize-t)
printf 'garbage 192.0.2.1 and [2001:DB8::1]:80 and 010.001.002.003\r\n\000192.0.2.7\377\376 x\n   \n192.0.2.9 no newline' >"$T/odd.log"
printf 'garbage 192.0.2.0 and [2001:db8::]:80 and 10.1.2.0\r\n\000192.0.2.0\377\376 x\n   \n192.0.2.0 no newline' >"$T/odd.exp"
run_in 0 "$T/odd.log" anonymize -f combined
same_file "$T/out" "$T/odd.exp" "unparsable lines: every address masked, every other byte kept"
like "$T/err" "could not be parsed" "a summary warning for unparsed lines"
run_in 0 "$T/odd.log" -q anonymize -f combined
is "$(wc -c <"$T/err" | tr -d ' ')" 0 "-q: no warning"
run_in 3 "$T/odd.log" anonymize -f combined --strict
same_file "$T/out" "$T/odd.exp" "--strict still writes every line"
: >"$T/empty.log"
run_in 0 "$T/empty.log" anonymize
is "$(wc -c <"$T/out" | tr -d ' ')" 0 "empty input, empty output"
printf 'host-7.dsl.example.net - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5\n' >"$T/host.log"
run_in 0 "$T/host.log" anonymize -f common
is "$(cat "$T/out")" 'hostname.invalid - - [01/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5' \
    "host name in the client field replaced"

# a 1 MiB line
awk 'BEGIN { printf "192.0.2.55 - - [01/Dec/2026:10:00:00 +0000] \"GET /"; for (i = 0; i < 16384; i++) printf "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; printf " HTTP/1.1\" 200 5\n" }' >"$T/big.log"
run_in 0 "$T/big.log" anonymize
is "$(head -c 12 "$T/out")" "192.0.2.0 - " "1 MiB line: masked"
is "$(wc -c <"$T/out" | tr -d ' ')" "$(($(wc -c <"$T/big.log") - 1))" "1 MiB line: whole"

# ---- gzip, -o, --in-place
"$GEN" -n 500 -s 7 -6 30 >"$T/gen.log"
run 0 anonymize "$T/gen.log"
cp "$T/out" "$T/gen.exp"
gzip -c "$T/gen.log" >"$T/gen.log.gz"
run 0 anonymize "$T/gen.log.gz"
same_file "$T/out" "$T/gen.exp" ".gz input read by its magic"
run 0 anonymize -o "$T/o.gz" "$T/gen.log"
check "-o x.gz writes gzip" gzip -t "$T/o.gz"
gzip -dc "$T/o.gz" >"$T/o.txt"
same_file "$T/o.txt" "$T/gen.exp" "-o x.gz content"
run 0 anonymize -o "$T/o.gz" "$T/gen.log"
is "$(gzip -dc "$T/o.gz" | wc -l | tr -d ' ')" 1000 "-o appends (a second gzip member)"
cp "$T/gen.log.gz" "$T/ip.log.gz"
cp "$T/gen.log" "$T/ip.log"
chmod 640 "$T/ip.log" "$T/ip.log.gz"
touch -d '2026-11-01 12:00:00' "$T/ip.log" "$T/ip.log.gz"
run 0 anonymize -i "$T/ip.log" "$T/ip.log.gz"
same_file "$T/ip.log" "$T/gen.exp" "--in-place plain"
check "--in-place keeps gzip" gzip -t "$T/ip.log.gz"
gzip -dc "$T/ip.log.gz" >"$T/ip.txt"
same_file "$T/ip.txt" "$T/gen.exp" "--in-place gzip content"
is "$(stat -c %a "$T/ip.log") $(stat -c %a "$T/ip.log.gz")" "640 640" "--in-place keeps the mode"
is "$(stat -c %Y "$T/ip.log")" "$(date -d '2026-11-01 12:00:00' +%s)" "--in-place keeps the mtime"
is "$(ls -a "$T" | grep -c 'ret-')" 0 "no temporary file left"
# truncated gzip: the lines before the damage, exit 1; -i leaves it alone
head -c $(($(wc -c <"$T/gen.log.gz") / 2)) "$T/gen.log.gz" >"$T/trunc.gz"
run 1 anonymize "$T/trunc.gz"
check "truncated gzip: the lines before the damage are written" test -s "$T/out"
like "$T/err" "trunc.gz" "truncated gzip: the file is named"
cmp -s "$T/out" "$T/gen.exp" && ok 1 "truncated gzip: not the whole file" || ok 0 "truncated gzip: not the whole file"
cp "$T/trunc.gz" "$T/trunc2.gz"
run 1 anonymize -i "$T/trunc2.gz"
check "truncated gzip: -i leaves the file as it was" cmp -s "$T/trunc.gz" "$T/trunc2.gz"
run 1 anonymize "$T/no-such-file.log"
like "$T/err" "no-such-file" "missing file named"

# ---- hash and key files
run 0 anonymize -m hash --key-file "$T/k" "$T/gen.log"
cp "$T/out" "$T/h1"
is "$(stat -c %a "$T/k")" 600 "key file created 0600"
run 0 anonymize -m hash --key-file "$T/k" "$T/gen.log"
same_file "$T/out" "$T/h1" "same key: same hashes"
cmp -s "$T/h1" "$T/gen.exp" && ok 1 "hash differs from truncate" || ok 0 "hash differs from truncate"
is "$(cut -d' ' -f2- "$T/h1" | md5sum)" "$(cut -d' ' -f2- "$T/gen.log" | md5sum)" "hash: only the address changes"
run 0 anonymize --key-file "$T/k" "$T/gen.log"
same_file "$T/out" "$T/h1" "--key-file implies --method hash"
chmod 644 "$T/k"
run 1 anonymize -m hash --key-file "$T/k" "$T/gen.log"
like "$T/err" "group or others" "a readable key file is refused"
is "$(wc -c <"$T/out" | tr -d ' ')" 0 "nothing written with a refused key"
run 2 anonymize -m hash --key-file "$T/k" --key-period year "$T/gen.log"

# ---- the invariant: no full client address in output, stderr, --stats
"$GEN" -n 3000 -s 11 -6 40 >"$T/inv.log"
printf 'junk 192.0.2.201 junk\n' >>"$T/inv.log"
run 0 -v anonymize --stats "$T/inv.log"
cut -d' ' -f1 "$T/inv.log" | grep -E '^[0-9a-f:.]+$' | grep -v -e '\.0$' -e '::$' | sort -u >"$T/inv.clients"
echo 192.0.2.201 >>"$T/inv.clients"
cat "$T/out" "$T/err" >"$T/all"
if grep -qwF -f "$T/inv.clients" "$T/all"; then
    ok 1 "no client address in output, stderr or --stats"
    grep -owF -f "$T/inv.clients" "$T/all" | head -3 | sed 's/^/#   leaked: /'
else
    ok 0 "no client address in output, stderr or --stats"
fi
like "$T/err" '3001 lines, 3001 addresses masked' "--stats counts"
is "$(wc -l <"$T/out" | tr -d ' ')" 3001 "every line written"

done_testing
