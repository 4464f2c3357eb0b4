#!/bin/sh
# install.sh - `make install` into a staging directory (DESTDIR) gives a
# working program, library, header, pkg-config file, man pages and bash
# completion; a program built with `pkg-config --cflags --libs retention`
# against the installed library runs; the installed library exports only
# ret_*; `make uninstall` leaves no file behind.
#
# It writes only below its temporary directory, so it also runs inside
# `make distcheck` (read-only source tree, the build's own prefix).
. "$top_srcdir/tests/cli/lib.sh"

[ -f "$top_builddir/Makefile" ] || skip_all "no Makefile in $top_builddir"
command -v make >/dev/null || skip_all "make not installed"
[ "${RETENTION_SKIP_INSTALL_TEST:-}" = "" ] || skip_all "RETENTION_SKIP_INSTALL_TEST is set"

# The outer make's job server and flags are not ours.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES || true
mk() {
    make -s -C "$top_builddir" "$@"
}
# The configured directories, as make expands them.
mkvar() {
    printf 'include Makefile\nprint-%%:\n\t@echo $($*)\n' >"$T/print.mk"
    make -s -C "$top_builddir" -f "$T/print.mk" "print-$1" 2>/dev/null
}
prefix=$(mkvar prefix)
bindir=$(mkvar bindir)
libdir=$(mkvar libdir)
includedir=$(mkvar includedir)
mandir=$(mkvar mandir)
pkgconfigdir=$(mkvar pkgconfigdir)
bashcompletiondir=$(mkvar bashcompletiondir)
check "make reports its directories" test -n "$prefix" -a -n "$libdir" -a -n "$bashcompletiondir"

D="$T/dest"
if mk install DESTDIR="$D" >"$T/install.out" 2>&1; then ok 0 "make install DESTDIR=..."; else
    ok 1 "make install DESTDIR=..."
    sed 's/^/#   /' "$T/install.out" | tail -20
fi
find "$D" \( -type f -o -type l \) | sed "s#^$D##" | sort >"$T/installed"
diag_list() { sed 's/^/#   installed: /' "$T/installed" | head -40; }

for f in "$bindir/retention" "$includedir/retention.h" \
    "$pkgconfigdir/retention.pc" "$mandir/man1/retention.1" \
    "$mandir/man3/libretention.3" "$bashcompletiondir/retention"; do
    check "installed $f" test -f "$D$f"
done
# A build configured with --disable-shared installs the static library
# alone.
shared=yes lib=
"$top_builddir/libtool" --config 2>/dev/null | grep -q '^build_libtool_libs=yes' ||
    shared=no
if [ "$shared" = yes ]; then
    lib=$(ls "$D$libdir"/libretention.so.* 2>/dev/null | head -1)
    check "installed the shared library" test -n "$lib"
    check "installed libretention.so for the linker" test -e "$D$libdir/libretention.so"
else
    check "installed the static library (a build without shared libraries)" \
        test -f "$D$libdir/libretention.a"
fi
# Every man page of the source tree is installed in its section.
for page in "$top_srcdir"/man/*.[1-8]; do
    n=$(basename "$page")
    check "installed man page $n" test -f "$D$mandir/man${n##*.}/$n"
done
_rc=0; cmp -s "$D$bashcompletiondir/retention" "$top_srcdir/contrib/bash-completion/retention" || _rc=$?
ok $_rc "the installed completion is contrib/bash-completion/retention"
if command -v pkg-config >/dev/null &&
    pkg-config --exists bash-completion 2>/dev/null; then
    # bash-completion's own completionsdir, relocated to our prefix.
    want=$(pkg-config --define-variable=prefix="$prefix" \
        --define-variable=datadir="$(mkvar datadir)" \
        --variable=completionsdir bash-completion)
    is "$bashcompletiondir" "$want" "completion dir is bash-completion's completionsdir under our prefix"
fi
# Nothing is installed outside the configured prefix.
outside=$(grep -v "^$prefix/" "$T/installed" || true)
is "$outside" "" "everything installed below the prefix $prefix"

# The installed program runs with the installed library.
LD_LIBRARY_PATH="$D$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
_rc=0; "$D$bindir/retention" --version >"$T/version" 2>&1 || _rc=$?
ok $_rc "the installed retention runs"
like "$T/version" '^retention [0-9.]+ \(libretention [0-9.]+\)$' "the installed retention prints its version"
if [ "$shared" = yes ] && command -v ldd >/dev/null; then
    ldd "$D$bindir/retention" >"$T/ldd" 2>&1 || true
    like "$T/ldd" "libretention\.so.* => $D$libdir/" "the installed retention loads the installed library"
fi

# A program built with pkg-config against the installed library.
if command -v pkg-config >/dev/null; then
    PKG_CONFIG_PATH="$D$pkgconfigdir"
    export PKG_CONFIG_PATH
    pc="pkg-config --define-variable=prefix=$D$prefix"
    check "pkg-config knows retention" $pc --exists retention
    is "$($pc --modversion retention)" "$(sed -n 's/.*(libretention \(.*\))$/\1/p' "$T/version")" \
        "pkg-config version is the library's"
    cflags=$($pc --cflags retention)
    libs=$($pc --libs retention)
    echo "# pkg-config --cflags --libs retention: $cflags $libs"
    # The build's own flags (sanitizers) are needed to link an
    # instrumented library; the include and library paths are pkg-config's.
    bcflags=$(mkvar CFLAGS)
    bldflags=$(mkvar LDFLAGS)
    # shellcheck disable=SC2086
    if ${CC:-cc} $bcflags -std=c11 -Wall -Werror $cflags \
        -o "$T/version-prog" "$top_srcdir/examples/version.c" $bldflags $libs \
        >"$T/cc.out" 2>&1; then
        ok 0 "examples/version.c builds with pkg-config --cflags --libs retention"
    else
        ok 1 "examples/version.c builds with pkg-config --cflags --libs retention"
        sed 's/^/#   /' "$T/cc.out" | head -20
    fi
    _rc=0; "$T/version-prog" >"$T/prog.out" 2>&1 || _rc=$?
    ok $_rc "the program built against the installed library runs"
    v=$($pc --modversion retention)
    like "$T/prog.out" "^libretention $v \(compiled against $v\)$" "it runs with the installed library"
    # The installed header alone is valid C11 and C++.
    printf '#include <retention.h>\nint main(void) { return ret_version() == 0; }\n' >"$T/hdr.c"
    # shellcheck disable=SC2086
    _rc=0; ${CC:-cc} -std=c11 -pedantic -Wall -Wextra -Werror $cflags -c -o "$T/hdr.o" "$T/hdr.c" 2>"$T/hdr.err" || _rc=$?
    ok $_rc "the installed header compiles alone (-std=c11 -pedantic)"
    if command -v c++ >/dev/null; then
        cp "$T/hdr.c" "$T/hdr.cc"
        # shellcheck disable=SC2086
        _rc=0; c++ -Wall -Werror $cflags -c -o "$T/hdr-cc.o" "$T/hdr.cc" 2>"$T/hdr.err" || _rc=$?
        ok $_rc "the installed header compiles as C++"
    fi
fi

# Only ret_* is exported by the installed library.
if command -v nm >/dev/null && [ -n "$lib" ]; then
    nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' |
        sed 's/@.*//' | sort -u >"$T/syms"
    check "the installed library exports symbols" test -s "$T/syms"
    bad=$(grep -v '^ret_[a-z]' "$T/syms" | tr '\n' ' ' || true)
    is "$bad" "" "the installed library exports only ret_*"
fi

# The installed completion completes with the installed program.
if command -v bash >/dev/null; then
    bash "$top_srcdir/tests/integration/complete.bash" \
        "$D$bashcompletiondir/retention" _retention "$D$bindir/retention" he >"$T/comp"
    is "$(cat "$T/comp")" help "the installed completion completes commands"
fi

# make uninstall removes every file it installed.
if mk uninstall DESTDIR="$D" >"$T/uninstall.out" 2>&1; then ok 0 "make uninstall DESTDIR=..."; else
    ok 1 "make uninstall DESTDIR=..."
    sed 's/^/#   /' "$T/uninstall.out" | tail -20
fi
find "$D" \( ! -type d \) | sed "s#^$D##" >"$T/left"
if [ -s "$T/left" ]; then
    ok 1 "make uninstall leaves no file behind"
    sed 's/^/#   left: /' "$T/left" | head -20
else
    ok 0 "make uninstall leaves no file behind"
fi
[ -s "$T/installed" ] || diag_list

done_testing
