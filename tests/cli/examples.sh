#!/bin/sh
# examples.sh - the example programs built against the library run.
. "$top_srcdir/tests/cli/lib.sh"

"$top_builddir/examples/version" >"$T/out"
ok $? "examples/version runs"
expected=$("$RETENTION" --version | sed -n 's/.*(libretention \(.*\))$/\1/p')
like "$T/out" "^libretention $expected" "examples/version prints the library version"
like "$T/out" "compiled against $expected" "header and library agree"

done_testing
