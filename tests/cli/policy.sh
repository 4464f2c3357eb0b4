#!/bin/sh
# policy.sh - retention policy check|explain|decide, the shipped example
# policies, the table of bad policies with their exact messages, file
# modes, and examples/decide (a portal program using the library).
. "$top_srcdir/tests/cli/lib.sh"

# Copies with mode 0644: a checkout may carry any umask, and a policy
# writable by group or others is refused.
cp "$top_srcdir/examples/stadtwerke-bochum-netz.conf" "$T/netz.conf"
cp "$top_srcdir/examples/stadtwerke-bochum.conf" "$T/utility.conf"
cp "$DATA/policy/design-sample.conf" "$T/sample.conf"
chmod 0644 "$T"/*.conf

for f in netz utility sample; do
    run 0 policy check "$T/$f.conf"
    is "$(cat "$T/out" "$T/err")" "" "$f.conf checks clean and quietly"
done
run 0 policy check -v "$T/netz.conf"
is "$(head -1 "$T/out")" "$T/netz.conf: valid: Stadtwerke Bochum Netz GmbH, version 1.2, 4 categories" "check -v says what was read"
like "$T/out" '^hash [0-9a-f]{64}$' "check -v prints the policy hash"
if command -v sha256sum >/dev/null; then
    is "$(sed -n 's/^hash //p' "$T/out")" "$(sha256sum <"$T/netz.conf" | cut -d' ' -f1)" "the hash of one file is its SHA-256"
fi
run 0 -v policy check "$T/utility.conf"
like "$T/out" 'Stadtwerke Bochum GmbH, version 1.3, 6 categories' "global -v works too"

# A directory: one policy each, each with its controller.
mkdir "$T/d"
cp "$T/netz.conf" "$T/utility.conf" "$T/d/"
run 0 -c "$T/d" policy check
is "$(cat "$T/out" "$T/err")" "" "-c DIR checks clean"
run 0 -c "$T/d" policy explain
is "$(grep -c '^[a-z-]* (Stadtwerke' "$T/out")" 10 "explain -c DIR: ten categories"
mkdir "$T/twice"
cp "$T/netz.conf" "$T/twice/netz-1.2.conf"
cp "$T/netz.conf" "$T/twice/netz-1.3.conf"
run 2 -c "$T/twice" policy check
is "$(cat "$T/err")" "retention: $T/twice/netz-1.3.conf:9: controller 'Stadtwerke Bochum Netz GmbH' already has a policy in $T/twice/netz-1.2.conf (one policy a controller: keep earlier versions outside $T/twice)" "one policy a controller in a directory"
RETENTION_CONF="$T/netz.conf" run 0 policy explain
like "$T/out" '^installer-portal \(Stadtwerke Bochum Netz GmbH, version 1.2, effective 2017-12-01\)$' "RETENTION_CONF is used"

# explain: the lifecycle in words, from the library.
run 0 policy explain "$T/sample.conf"
like "$T/out" '^web-access \(Stadtwerke Bochum Netz GmbH, version 1.2, effective 2017-12-01\)$' "explain: category header"
like "$T/out" '^  Nutzung der Website$' "explain: description"
like "$T/out" '^  source: files /var/log/nginx/access.log\* \(format combined\)$' "explain: source"
like "$T/out" '^  client IP kept 7 days, then truncated to /24 and /48 \(by day 6 with the daily schedule\); record deleted within 90 days \(by day 89 with the daily schedule\); counted into the anonymous statistics before deletion\.$' "explain: web-access lifecycle"
like "$T/out" '^  source: table sms_log in /var/lib/portal/portal.db$' "explain: table source"
like "$T/out" 'record deleted once the request is completed' "explain: completion"
run 0 policy explain "$T/utility.conf"
like "$T/out" '^callback \(Stadtwerke Bochum GmbH' "explain: the utility's callback"
like "$T/out" 'legal hold is kept unaltered and never deleted' "explain: the SMS legal hold"
unlike "$T/out" '([0-9]{1,3}\.){3}[0-9]{1,3}|[0-9a-fA-F]{1,4}(:[0-9a-fA-F]{0,4}){3,7}' "explain prints no address"

# decide: text and JSON, with and without facts.
run 0 policy decide --now 2026-12-01T03:00:00Z -p "$T/sample.conf" web-access 2026-11-20T10:00:00Z
cat >"$T/expected" <<EOT
category:    web-access
record time: 2026-11-20T10:00:00Z
now:         2026-12-01T03:00:00Z
decision:    anonymize client-ip: truncate to /24 and /48
rule:        $T/sample.conf:13
controller:  Stadtwerke Bochum Netz GmbH
version:     1.2
next change: 2027-02-17T10:00:00Z (delete)
EOT
same_file "$T/out" "$T/expected" "decide: text"
TZ=Europe/Berlin run 0 policy decide --now 2026-12-01T03:00:00Z -p "$T/sample.conf" web-access 2026-11-20T10:00:00Z
same_file "$T/out" "$T/expected" "decide: TZ=Europe/Berlin changes nothing"
run 0 -c "$T/sample.conf" policy decide --now 2026-12-01T03:00:00Z --json web-access '2026-09-02 12:00:00+02:00'
is "$(cat "$T/out")" "{\"category\":\"web-access\",\"time\":\"2026-09-02T10:00:00Z\",\"now\":\"2026-12-01T03:00:00Z\",\"action\":\"delete\",\"fields\":[],\"method\":\"truncate\",\"ipv4_prefix\":24,\"ipv6_prefix\":48,\"rule\":\"$T/sample.conf:15\",\"controller\":\"Stadtwerke Bochum Netz GmbH\",\"version\":\"1.2\",\"next_change\":null,\"next_action\":null}" "decide --json, a time with its own offset"
run 0 -c "$T/sample.conf" policy decide --now 2026-12-01T03:00:00Z --held --json sms 2026-01-01
like "$T/out" '"action":"restrict"' "decide --held: restricted, not deleted"
like "$T/out" '"next_change":null' "decide --held: no change until released"
run 0 -c "$T/sample.conf" policy decide --now 2026-12-01T03:00:00Z contact-form 2026-11-01
like "$T/out" '^decision:    keep$' "an open request is kept"
like "$T/out" '^next change: never$' "an open request: never changes by itself"
run 0 -c "$T/sample.conf" policy decide --now 2026-12-01T03:00:00Z --completed 2026-11-15 contact-form 2026-11-01
like "$T/out" '^decision:    delete$' "a completed request is deleted"
run 0 -c "$T/sample.conf" policy decide --now 2026-12-01T03:00:00Z --completed 2026-11-15 --retain-until 2030-12-31 contact-form 2026-11-01
like "$T/out" '^decision:    restrict$' "retain-until: restricted instead"
like "$T/out" '^next change: 2030-12-31T00:00:00Z \(delete\)$' "retain-until: deleted when it ends"
run 0 -c "$T/d" policy decide --now 2026-12-01 utility/web-access 2026-11-01
like "$T/out" '^controller:  Stadtwerke Bochum GmbH$' "a qualified category picks the policy"
run 0 -c "$T/d" policy decide --now 2026-12-01 netz/web-access 2026-11-01
like "$T/out" '^controller:  Stadtwerke Bochum Netz GmbH$' "the other policy"

run 2 -c "$T/sample.conf" policy decide nothing 2026-01-01
is "$(head -1 "$T/err")" "retention: policy: unknown category 'nothing'" "decide: unknown category"
like "$T/err" '^Categories: web-access sms contact-form$' "decide: lists the categories"
run 2 -c "$T/sample.conf" policy decide sms yesterday
like "$T/err" "^retention: policy: TIME: invalid time 'yesterday'" "decide: bad time"
run 2 -c "$T/sample.conf" policy decide sms
like "$T/err" 'decide needs CATEGORY and TIME' "decide: missing arguments"
run 2 -c "$T/sample.conf" policy decide --frob sms 2026-01-01
like "$T/err" "unknown option '--frob'" "decide: unknown option"
run 2 policy frobnicate
like "$T/err" "unknown policy command 'frobnicate'" "unknown subcommand"
run 0 policy --help
like "$T/out" '^Usage: retention policy check' "policy --help"
run 0 policy decide --help
like "$T/out" '^Usage: retention policy' "policy decide --help"

# Refused and missing files.
chmod 0664 "$T/sample.conf"
run 2 policy check "$T/sample.conf"
is "$(cat "$T/err")" "retention: policy: $T/sample.conf: refusing a policy writable by group or others (chmod go-w $T/sample.conf)" "a group-writable policy is refused"
chmod 0644 "$T/sample.conf"
run 1 policy check "$T/missing.conf"
like "$T/err" "^retention: policy: $T/missing.conf: No such file or directory$" "a missing policy"

# The table of bad policies: exit 2 and the exact message, with
# file:line:column and a hint.
n=0
for f in "$DATA"/policy/bad-*.conf; do
    b=$(basename "$f")
    cp "$f" "$T/$b"
    chmod 0644 "$T/$b"
    set +e
    (cd "$T" && "$RETENTION" policy check "$b" >"$T/out" 2>"$T/err")
    rc=$?
    set -e
    is "$rc" 2 "$b: exit 2"
    same_file "$T/err" "${f%.conf}.err" "$b: message"
    is "$(wc -c <"$T/out" | tr -d ' ')" 0 "$b: nothing on stdout"
    n=$((n + 1))
done
check "at least 30 bad policies ($n)" test "$n" -ge 30

# A format that does not compile (the message after the location is the
# format compiler's).
cp "$DATA/policy/badformat.conf" "$T/badformat.conf"
chmod 0644 "$T/badformat.conf"
(cd "$T" && "$RETENTION" policy check badformat.conf) >"$T/out" 2>"$T/err" && rc=0 || rc=$?
is "$rc" 2 "a bad format: exit 2"
like "$T/err" "^retention: badformat.conf:7:12: invalid format: .*combind" "a bad format: file:line:column"

# The portal example program, with its own policy and with a shipped one.
"$top_builddir/examples/decide" >"$T/out" 2>"$T/err"
ok $? "examples/decide checks its own decisions"
like "$T/out" '^sms: record deleted within 90 days' "examples/decide shows the lifecycle"
"$top_builddir/examples/decide" "$T/utility.conf" >"$T/out" 2>"$T/err"
ok $? "examples/decide with examples/stadtwerke-bochum.conf"
like "$T/out" "utility.conf:[0-9]+, Stadtwerke Bochum GmbH 1.3" "examples/decide names rule, controller and version"

done_testing
