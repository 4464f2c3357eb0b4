# prune-lib.sh - helpers of the prune, audit and run tests, sourced after
# lib.sh. Every time is given with --now, so results never depend on the
# clock; files get an old mtime (touch -d) so they are not live.

# The moment the tests judge at, and its epoch seconds.
NOW=2026-12-01T12:00:00Z
NOW_S=$(date -u -d "$NOW" +%s)
DAY=86400

# ep DATE: epoch seconds of a date.
ep() { date -u -d "$1" +%s; }

# logline IP EPOCH [PATH] [OFFSET]: one combined log line whose record
# time is EPOCH, written in local time at OFFSET (+0200, -0700...).
logline() {
    _off=${4:-+0000}
    _secs=$(printf '%s' "$_off" | awk '{
        v = substr($0, 2, 2) * 3600 + substr($0, 4, 2) * 60
        if (substr($0, 1, 1) == "-") v = -v
        print v }')
    _t=$(date -u -d "@$(( $2 + _secs ))" +%d/%b/%Y:%H:%M:%S)
    printf '%s - - [%s %s] "GET %s HTTP/1.1" 200 %d "-" "prune-test/1.0"\n' \
        "$1" "$_t" "$_off" "${3:-/}" "$(( $2 % 9000 ))"
}

# old FILE...: give files an mtime well in the past (not live).
old() { touch -d '2026-11-30 00:00:00 UTC' "$@"; }

# ino_mtime FILE: inode and mtime, to check a file was not touched.
ino_mtime() { stat -c '%i %Y' "$1"; }

# tree_sum DIR: a checksum of every file of DIR (names, contents, inodes,
# modes, mtimes), to check that nothing changed at all.
tree_sum() {
    (cd "$1" && find . -print0 | sort -z |
        xargs -0 stat -c '%n %i %a %u %g %s %Y' &&
        find . -type f -print0 | sort -z | xargs -0 -r sha256sum) |
        sha256sum | cut -d' ' -f1
}

# content FILE: the uncompressed text of FILE (plain or gzip).
content() { gzip -dc -f "$1"; }

# RET ARGS: runs retention, exit code in $rc, no TAP line.
RET() {
    set +e
    "$RETENTION" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    set -e
}
