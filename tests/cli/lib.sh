# lib.sh - shared by the CLI tests (TAP shell scripts). Source it first:
#   . "$top_srcdir/tests/cli/lib.sh"
# It gives: $RETENTION (the built program), $T (a temp dir removed at
# exit), run EXIT ARGS... (runs retention, stdout in $T/out, stderr in
# $T/err, fails the test when the exit code differs), ok, is, like,
# unlike, skip_all, done_testing.
set -eu
LC_ALL=C
export LC_ALL
unset RETENTION_CONF NO_COLOR || true
: "${RETENTION:?RETENTION must name the built program}"
: "${top_srcdir:?top_srcdir must be set}"
DATA="$top_srcdir/tests/data"
T=$(mktemp -d "${TMPDIR:-/tmp}/retention-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
_tap_n=0
_tap_failed=0

ok() { # ok COND-EXIT-STATUS DESCRIPTION  (use: ok $? "desc" or cmd && ok 0 ..)
    _tap_n=$((_tap_n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $_tap_n - $2"
    else
        echo "not ok $_tap_n - $2"
        _tap_failed=$((_tap_failed + 1))
    fi
}

check() { # check DESCRIPTION COMMAND...: ok when COMMAND succeeds
    _d=$1
    shift
    if "$@"; then ok 0 "$_d"; else ok 1 "$_d"; fi
}

is() { # is GOT EXPECTED DESCRIPTION
    if [ "$1" = "$2" ]; then
        ok 0 "$3"
    else
        ok 1 "$3"
        printf '#   got:      %s\n#   expected: %s\n' "$1" "$2" | head -40
    fi
}

like() { # like FILE EREGEX DESCRIPTION
    if grep -Eq -- "$2" "$1"; then
        ok 0 "$3"
    else
        ok 1 "$3"
        echo "#   '$1' does not match /$2/:"
        head -20 "$1" | sed 's/^/#   /'
    fi
}

unlike() { # unlike FILE EREGEX DESCRIPTION
    if grep -Eq -- "$2" "$1"; then
        ok 1 "$3"
        grep -E -- "$2" "$1" | head -5 | sed 's/^/#   found: /'
    else
        ok 0 "$3"
    fi
}

same_file() { # same_file GOT EXPECTED DESCRIPTION
    if cmp -s "$1" "$2"; then
        ok 0 "$3"
    else
        ok 1 "$3"
        diff -u "$2" "$1" | head -40 | sed 's/^/#   /' || true
    fi
}

run() { # run EXIT ARGS...: runs retention; ok when the exit code is EXIT
    _want=$1
    shift
    set +e
    "$RETENTION" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    _tap_n=$((_tap_n + 1))
    if [ "$rc" -eq "$_want" ]; then
        echo "ok $_tap_n - retention $* exits $_want"
    else
        echo "not ok $_tap_n - retention $* exits $_want (got $rc)"
        sed 's/^/#   stderr: /' "$T/err" | head -20
        _tap_failed=$((_tap_failed + 1))
    fi
}

run_in() { # run_in EXIT STDIN-FILE ARGS...: like run, with standard input
    _want=$1
    _in=$2
    shift 2
    set +e
    "$RETENTION" "$@" <"$_in" >"$T/out" 2>"$T/err"
    rc=$?
    set -e
    _tap_n=$((_tap_n + 1))
    if [ "$rc" -eq "$_want" ]; then
        echo "ok $_tap_n - retention $* <$(basename "$_in") exits $_want"
    else
        echo "not ok $_tap_n - retention $* <$(basename "$_in") exits $_want (got $rc)"
        sed 's/^/#   stderr: /' "$T/err" | head -20
        _tap_failed=$((_tap_failed + 1))
    fi
}

skip_all() { # skip_all REASON
    echo "1..0 # SKIP $1"
    exit 0
}

done_testing() {
    echo "1..$_tap_n"
    [ "$_tap_failed" -eq 0 ]
}
