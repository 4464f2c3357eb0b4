#!/bin/sh
# contrib/deps.sh - installs, with apt-get, what building retention and
# running its test suite needs on Debian 12 and is not yet installed.
#   deps.sh          build and test dependencies
#   deps.sh --all    also the servers and peers the integration tests and
#                    benchmarks use (apache2, nginx, rsyslog, chromium,
#                    anonip, goaccess, ...)
set -eu
pkgs="build-essential autoconf automake libtool pkgconf zlib1g-dev
libpcre2-dev libsqlite3-dev libmaxminddb-dev libyaml-dev uap-core groff
sqlite3 gzip bc time"
if [ "${1:-}" = --all ]; then
    pkgs="$pkgs clang libclang-rt-dev apache2 apache2-utils nginx rsyslog
    logrotate curl chromium anonip goaccess bash-completion mmdb-bin"
fi
missing=
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
        missing="$missing $p"
done
[ -n "$missing" ] || exit 0
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
echo "deps.sh: installing$missing" >&2
# Servers installed for the tests must not start as system services
# (their tests start private instances): policy-rc.d says no while apt runs.
prc=/usr/sbin/policy-rc.d
own_prc=
if [ ! -e "$prc" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$prc" >/dev/null
    $SUDO chmod 755 "$prc"
    own_prc=1
fi
status=0
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq || status=$?
# shellcheck disable=SC2086
[ "$status" -ne 0 ] || $SUDO env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $missing >/dev/null || status=$?
[ -z "$own_prc" ] || $SUDO rm -f "$prc"
exit "$status"
