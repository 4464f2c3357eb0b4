#!/bin/sh
# exports.sh - the shared library exports only ret_* symbols.
. "$top_srcdir/tests/cli/lib.sh"

lib=$(ls "$top_builddir"/.libs/libretention.so.* 2>/dev/null | head -1)
[ -n "$lib" ] || skip_all "no shared library built"
command -v nm >/dev/null || skip_all "nm not installed"

nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' |
    sed 's/@.*//' | sort -u >"$T/syms"
check "the library exports symbols" test -s "$T/syms"
grep -v '^ret_[a-z]' "$T/syms" >"$T/bad" || true
if [ -s "$T/bad" ]; then
    ok 1 "only ret_* symbols are exported"
    sed 's/^/#   exported: /' "$T/bad" | head -20
else
    ok 0 "only ret_* symbols are exported"
fi
unlike "$T/syms" '^ret__' "no internal ret__ symbol is exported"
like "$T/syms" '^ret_version$' "ret_version is exported"
like "$T/syms" '^ret_strerror$' "ret_strerror is exported"

# Every exported function is documented in libretention(3).
man3="$top_srcdir/man/libretention.3"
while read -r s; do
    if grep -q -- "$s" "$man3"; then ok 0 "$s documented in libretention.3"
    else ok 1 "$s documented in libretention.3"; fi
done <"$T/syms"

# Every function declared in retention.h is exported (no dangling API).
hdr="$top_builddir/src/include/retention.h"
sed -n 's/^RET_API [^(]*[ *]\(ret_[a-z0-9_]*\)(.*/\1/p' "$hdr" | sort -u >"$T/decl"
while read -r s; do
    if grep -qx -- "$s" "$T/syms"; then ok 0 "$s declared and exported"
    else ok 1 "$s declared and exported"; fi
done <"$T/decl"

done_testing
