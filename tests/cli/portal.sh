#!/bin/sh
# portal.sh - examples/portal, a portal application on the record store,
# runs in a fresh directory and finds its records as the policy says.
. "$top_srcdir/tests/cli/lib.sh"

prog="$top_builddir/examples/portal"
[ -x "$prog" ] || skip_all "examples/portal not built"

mkdir "$T/run"
(cd "$T/run" && "$prog") >"$T/out" 2>"$T/err"
ok $? "examples/portal exits 0 in an empty directory"
check "it created its database in the current directory" \
    test -s "$T/run/portal-example.db"
unlike "$T/out" '^FAIL' "every check of the example passes"
like "$T/out" '^portal-example.db: all as the policy says$' "final verdict"
check "nothing on stderr" test ! -s "$T/err"
if grep -a -q -e '192\.0\.2\.66' -e '192\.0\.2\.67' \
    "$T/run/portal-example.db" "$T/run/portal-example.db-wal" 2>/dev/null; then
    ok 1 "the deleted SMS addresses are not readable in the file"
else
    ok 0 "the deleted SMS addresses are not readable in the file"
fi
grep -a -q '198\.51\.100\.0' "$T/run/portal-example.db"
ok $? "the anonymized installer addresses are (the search works)"
if grep -a -q 'Erika Mustermann' "$T/run/portal-example.db" \
    "$T/run/portal-example.db-wal" 2>/dev/null; then
    ok 1 "the deleted contact request is not readable in the file"
else
    ok 0 "the deleted contact request is not readable in the file"
fi
# a second run starts afresh
(cd "$T/run" && "$prog") >"$T/out2" 2>&1
ok $? "a second run passes too"
# another path
"$prog" "$T/other.db" >"$T/out3" 2>&1
ok $? "with a database path"
check "the named database exists" test -s "$T/other.db"

done_testing
