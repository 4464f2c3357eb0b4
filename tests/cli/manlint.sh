#!/bin/sh
# manlint.sh - every man page renders without a groff warning.
. "$top_srcdir/tests/cli/lib.sh"

[ -n "${GROFF:-}" ] || skip_all "groff not installed (apt-get install groff)"
for page in "$top_srcdir"/man/*.[1-8]; do
    name=$(basename "$page")
    LC_ALL=C.UTF-8 $GROFF -mandoc -ww -z -K utf8 "$page" >"$T/lint" 2>&1 || true
    if [ -s "$T/lint" ]; then
        ok 1 "$name lints clean"
        sed 's/^/#   /' "$T/lint" | head -20
    else
        ok 0 "$name lints clean"
    fi
    like "$page" '^\.Sh NAME' "$name has NAME"
    like "$page" '^\.Sh SYNOPSIS' "$name has SYNOPSIS"
    like "$page" '^\.Sh DESCRIPTION' "$name has DESCRIPTION"
done

# Every command listed by --help has a man page retention-CMD.1, and is
# named in retention(1).
"$RETENTION" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR>1 && NF {print $1}' >"$T/cmds"
while read -r c; do
    [ "$c" = help ] && continue
    check "retention-$c.1 exists" test -f "$top_srcdir/man/retention-$c.1"
    like "$top_srcdir/man/retention.1" "$c" "retention.1 names $c"
done <"$T/cmds"

done_testing
