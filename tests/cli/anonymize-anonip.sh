#!/bin/sh
# anonymize-anonip.sh - the anonip-compatible options. On the compatible
# cases our output is byte-identical to anonip 1.1.0's (the expected files
# were written by Debian's anonip; when anonip is installed it is run
# again on the same input and compared live); on the documented
# differences it is our behaviour (retention-anonymize(1), "anonip
# differences") and never an address in clear.
. "$top_srcdir/tests/cli/lib.sh"

D="$DATA/anonymize"
ANONIP=$(command -v anonip 2>/dev/null || true)
[ -n "$ANONIP" ] || echo "# anonip not installed (apt-get install anonip): live comparison skipped"

# case NAME INPUT ARGS...: ours against the stored anonip output, and
# against anonip itself when installed.
case_() {
    _n=$1
    _cin=$2
    shift 2
    run_in 0 "$D/$_cin" anonymize "$@"
    same_file "$T/out" "$D/$_n.expected" "$_n: same bytes as anonip 1.1.0"
    if [ -n "$ANONIP" ]; then
        "$ANONIP" "$@" <"$D/$_cin" >"$T/anonip.out" 2>/dev/null || true
        same_file "$T/out" "$T/anonip.out" "$_n: same bytes as the installed anonip"
    else
        echo "ok $((_tap_n + 1)) # SKIP anonip not installed"
        _tap_n=$((_tap_n + 1))
    fi
}

case_ compat-default compat.log --column 1
case_ compat-mask8 compat.log --ipv4mask 8 --ipv6mask 80
case_ compat-mask1 compat.log --ipv4mask 1 --ipv6mask 1
case_ vhost-col2 vhost.log --column 2
case_ semicolon semicolon.log --delimiter ';' --column 2
case_ private-skip private-edges.log --skip-private
case_ private-mask private-edges.log --ipv4mask 4 --ipv6mask 100
case_ compat-increment compat.log --increment 5 --ipv4mask 16
case_ dash-replace dash.log --replace 0.0.0.0
case_ xff-columns xff.log --column 1 14
case_ xff-regex xff.log --regex '^(\S+) .* "([^"]*)"$'

# The documented differences: every address masked, nothing else changed.
run_in 0 "$D/diff.log" anonymize --column 1
same_file "$T/out" "$D/diff.expected" "differences: our documented output"
for a in 192.0.2.133 198.51.100.7 2001:DB8:ABCD:1234::1 010.001.002.003 \
    fe80::1234:5678 host-7.dsl.example.net; do
    unlike "$T/out" "$a" "differences: $a not in the output"
done
is "$(wc -l <"$T/out" | tr -d ' ')" "$(wc -l <"$D/diff.log" | tr -d ' ')" \
    "differences: every line there"
is "$(tail -c 1 "$T/out" | od -An -c | tr -d ' ')" "5" \
    "differences: no newline added to the last line"
like "$T/out" "$(printf '200 5\r$')" "differences: CR kept"
like "$T/out" '200 5   $' "differences: trailing blanks kept"
like "$T/out" '^::ffff:192\.0\.0\.0 ' "differences: v4-mapped keeps its masked IPv4"
like "$T/out" '^fe80::%eth0 ' "differences: zone id kept"
like "$T/out" '^192\.0\.0\.0/24 ' "differences: CIDR value masked, length kept"
if [ -n "$ANONIP" ]; then
    "$ANONIP" --column 1 <"$D/diff.log" >"$T/anonip.out" 2>/dev/null || true
    like "$T/anonip.out" '192\.0\.2\.133' "anonip leaves an address of these cases in clear"
fi

# The regex replaces where it matched only, not elsewhere in the line.
printf '192.0.2.133 x "192.0.2.133"\n' >"$T/re.log"
run_in 0 "$T/re.log" anonymize --regex '^(\S+) '
is "$(cat "$T/out")" '192.0.0.0 x "192.0.2.133"' "regex: only the group is rewritten"
run_in 0 "$T/re.log" anonymize --regex '^nomatch(\S+)'
is "$(cat "$T/out")" '192.0.0.0 x "192.0.0.0"' "regex without a match: fail closed"
run_in 0 "$T/re.log" anonymize --regex '^(\S+) (x)' --replace X
is "$(cat "$T/out")" '192.0.0.0 X "192.0.2.133"' "regex: --replace for a group without address"
run_in 0 "$T/re.log" anonymize --regex '^(nomatch)' --regex '^(\S+)'
is "$(cat "$T/out")" '192.0.0.0 x "192.0.2.133"' "repeated --regex are alternatives"

# --skip-private: each boundary of Python's private ranges (above, with
# anonip); and the mapped form follows its IPv4 address.
printf '::ffff:10.1.2.3 a\n::ffff:8.8.8.8 b\n' >"$T/mapped.log"
run_in 0 "$T/mapped.log" anonymize --skip-private
is "$(cat "$T/out")" "$(printf '::ffff:10.1.2.3 a\n::ffff:8.8.0.0 b')" "skip-private on v4-mapped"

# Several columns, as anonip takes them and as repeated options.
printf 'a b 192.0.2.7 c 198.51.100.7 d 203.0.113.7\n' >"$T/cols.log"
run_in 0 "$T/cols.log" anonymize --column 1 3 --column 5 7
is "$(cat "$T/out")" 'a b 192.0.0.0 c 198.51.96.0 d 203.0.112.0' "--column 1 3 --column 5 7"
run_in 0 "$T/cols.log" anonymize --column 3,5
is "$(cat "$T/out")" 'a b 192.0.0.0 c 198.51.96.0 d 203.0.113.7' "--column 3,5"

# Usage errors.
run 2 anonymize --ipv4mask 0
like "$T/err" "ipv4mask" "--ipv4mask 0 refused (as anonip)"
run 2 anonymize --ipv6mask 129
run 2 anonymize --regex '(' </dev/null
like "$T/err" "regex" "invalid regex"
run 2 anonymize --regex 'x' --column 2
like "$T/err" "cannot be combined" "--regex with --column"
run 2 anonymize -f combined --column 2
run 2 anonymize --ipv4mask 8 --ipv4-prefix 24
run 2 anonymize --delimiter ''
run 2 anonymize --column 0
run 2 anonymize --increment x

done_testing
