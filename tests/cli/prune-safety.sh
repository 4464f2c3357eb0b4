#!/bin/sh
# prune-safety.sh - what prune refuses to touch: symbolic links (of the
# file or of a directory on the way), hard links, FIFOs, directories
# writable by others when run as root; and one run at a time.
. "$top_srcdir/tests/cli/lib.sh"
. "$top_srcdir/tests/cli/prune-lib.sh"

L="$T/logs"
O="$T/outside"
mkdir -p "$L" "$O"
ADHOC="--now $NOW --schedule none --max-age 90d"

# A file that prune would rewrite if it were allowed to.
victim() {
    {
        logline 203.0.113.1 $((NOW_S - 100 * DAY)) /expired
        logline 198.51.100.1 $((NOW_S - DAY)) /kept
    } >"$1"
    old "$1"
}

# ---- symbolic link to a file -------------------------------------------
victim "$O/target.log"
cp -p "$O/target.log" "$T/orig"
ln -s "$O/target.log" "$L/link.log"
run 1 prune $ADHOC "$L/link.log"
like "$T/err" "link.log: refused: a symbolic link" "a symbolic link is refused"
same_file "$O/target.log" "$T/orig" "the link's target is untouched"
check "the link itself stays" test -L "$L/link.log"

# ---- symbolic link on the way ------------------------------------------
ln -s "$O" "$L/dirlink"
run 1 prune $ADHOC "$L/dirlink/target.log"
like "$T/err" "refused: 'dirlink' is a symbolic link" \
    "a symbolic link to a directory on the way is refused"
same_file "$O/target.log" "$T/orig" "the file behind it is untouched"

# ---- policy globs do not follow links either ---------------------------
mkdir -p "$T/state"
cat >"$T/policy.conf" <<EOF
policy {
    name "test"
    controller "Test GmbH"
    version 1.0
    schedule none
    state $T/state
}
category web {
    files $L/*.log
    format combined
    delete after 90d
}
EOF
chmod 0644 "$T/policy.conf"
victim "$L/real.log"
run 1 -c "$T/policy.conf" prune --now $NOW
like "$T/err" "link.log: refused" "policy run: the link is refused"
is "$(cut -d' ' -f7 "$L/real.log")" /kept "policy run: the other file is still pruned"
same_file "$O/target.log" "$T/orig" "policy run: the link target is untouched"
rm -f "$L/link.log" "$L/dirlink" "$L/real.log"

# ---- hard link ----------------------------------------------------------
victim "$L/hard.log"
ln "$L/hard.log" "$O/hard-elsewhere.log"
cp -p "$L/hard.log" "$T/orig"
run 1 prune $ADHOC "$L/hard.log"
like "$T/err" "hard.log: refused: it has 2 hard links" "a hard link is refused"
same_file "$L/hard.log" "$T/orig" "the hard-linked file is untouched"
rm -f "$L/hard.log" "$O/hard-elsewhere.log"

# ---- FIFO: refused, and no hang -----------------------------------------
mkfifo "$L/fifo.log"
set +e
timeout 10 "$RETENTION" prune $ADHOC "$L/fifo.log" >"$T/out" 2>"$T/err"
rc=$?
set -e
is "$rc" 1 "a FIFO is refused with exit 1 (124 would be a hang)"
like "$T/err" "fifo.log: refused: a FIFO" "the FIFO message"
rm -f "$L/fifo.log"

mkdir -p "$L/adir.log"
run 1 prune $ADHOC "$L/adir.log"
like "$T/err" "refused: a directory" "a directory is refused"
rmdir "$L/adir.log"

# ---- insecure directory, as root ----------------------------------------
if [ "$(id -u)" = 0 ]; then
    mkdir -p "$T/open"
    victim "$T/open/a.log"
    cp -p "$T/open/a.log" "$T/orig"
    chmod 0777 "$T/open"
    run 1 prune $ADHOC "$T/open/a.log"
    like "$T/err" "a.log: refused: its directory is writable by others" \
        "root refuses a directory writable by others"
    same_file "$T/open/a.log" "$T/orig" "its file is untouched"
    chmod 1777 "$T/open"
    run 1 prune $ADHOC "$T/open/a.log"
    like "$T/err" "writable by others" "the sticky bit does not make it safe"
    chmod 0775 "$T/open"
    chgrp nogroup "$T/open" 2>/dev/null || chgrp 65534 "$T/open"
    run 1 prune $ADHOC "$T/open/a.log"
    like "$T/err" "writable by group" "root refuses a directory writable by a group"
    chgrp 0 "$T/open"
    run 0 prune $ADHOC "$T/open/a.log"
    is "$(cut -d' ' -f7 "$T/open/a.log")" /kept "a directory writable by group root is fine"
    chmod 0755 "$T/open"
else
    ok 0 "# SKIP insecure directory tests need root"
fi

# ---- one run at a time ---------------------------------------------------
victim "$L/w.log"
if command -v flock >/dev/null; then
    run 0 -c "$T/policy.conf" prune --now $NOW
    check "the lock file is in the state directory" test -f "$T/state/lock"
    victim "$L/w.log"
    cp -p "$L/w.log" "$T/orig"
    flock "$T/state/lock" sleep 3 &
    holder=$!
    sleep 0.5
    run 1 -c "$T/policy.conf" prune --now $NOW
    like "$T/err" "lock: another run .*holds the lock; use --wait" \
        "a second run exits 1 with a message"
    same_file "$L/w.log" "$T/orig" "the second run changed nothing"
    run 0 -c "$T/policy.conf" prune --dry-run --now $NOW
    like "$T/out" "^rewrite $L/w.log" "a dry run needs no lock"
    run 0 -c "$T/policy.conf" prune --wait --now $NOW
    is "$(cut -d' ' -f7 "$L/w.log")" /kept "--wait queues behind the other run"
    wait "$holder" || true
else
    ok 0 "# SKIP lock tests need flock(1)"
fi

# ---- an audit trail that cannot be written fails the run ---------------
victim "$L/w.log"
rm -f "$T/state/audit.log"
mkdir "$T/state/audit.log"
run 1 -c "$T/policy.conf" prune --now $NOW
like "$T/err" "w.log: done \(rewrite\), but not recorded: .*audit.log" \
    "an action that could not be recorded is an error"
rmdir "$T/state/audit.log"

done_testing
