#!/bin/bash
# bench/peers/install.sh - install the peer FTP servers bench:compare measures
# muxftpd against (Debian 12, as root). vsftpd, proftpd-core and pure-ftpd all
# "Conflict: ftp-server", so only vsftpd comes from apt-get install; proftpd-core
# and pure-ftpd are fetched with apt-get download and unpacked with dpkg-deb -x
# under $PEERS_DIR (their libraries come from apt). pyftpdlib is
# python3-pyftpdlib; ftp-srv is the npm package in $PEERS_DIR/ftp-srv.
# For the TLS rows (bench:compare --tls): proftpd's mod_tls is Debian's
# proftpd-mod-crypto, fetched at proftpd-core's version (it depends on
# proftpd-core (= that version)) and unpacked into $PEERS_DIR/proftpd the same
# way; python3-openssl is pyftpdlib's TLS_FTPHandler; openssl (the CLI) makes
# the run's certificate and measures `openssl speed`.
# Nothing is enabled as a service.
set -eu
PEERS_DIR=${PEERS_DIR:-/opt/peers}
export DEBIAN_FRONTEND=noninteractive
[ -n "${SKIP_APT_UPDATE:-}" ] || apt-get update
apt-get install -y vsftpd python3-pyftpdlib python3-openssl openssl \
    libhiredis0.14 libmemcached11 libmemcachedutil2 libpcre2-posix3 libidn2-0 libsodium23 \
    libacl1 libcap2 libssl3 libwrap0 libpam0g
mkdir -p "$PEERS_DIR/debs"
cd "$PEERS_DIR/debs"
for p in proftpd-core pure-ftpd; do
    ls ${p}_*.deb >/dev/null 2>&1 || apt-get download "$p"
done
mkdir -p "$PEERS_DIR/proftpd" "$PEERS_DIR/pure-ftpd"
dpkg-deb -x "$(ls proftpd-core_*.deb | head -1)" "$PEERS_DIR/proftpd"
dpkg-deb -x "$(ls pure-ftpd_*.deb | head -1)" "$PEERS_DIR/pure-ftpd"
core_ver=$(dpkg-deb -f "$(ls proftpd-core_*.deb | head -1)" Version)
ls proftpd-mod-crypto_*.deb >/dev/null 2>&1 || apt-get download "proftpd-mod-crypto=$core_ver"
dpkg-deb -x "$(ls proftpd-mod-crypto_*.deb | head -1)" "$PEERS_DIR/proftpd"
[ -f "$PEERS_DIR/proftpd/usr/lib/proftpd/mod_tls.so" ] || { echo "mod_tls.so missing after unpacking proftpd-mod-crypto" >&2; exit 1; }
mkdir -p "$PEERS_DIR/ftp-srv"
cd "$PEERS_DIR/ftp-srv"
[ -f package.json ] || npm init -y >/dev/null
[ -d node_modules/ftp-srv ] || npm install --no-audit --no-fund ftp-srv@4
# A service a package started by itself is stopped by its own init script,
# only when its own pid file names a live process.
for pf in /run/vsftpd/vsftpd.pid /run/proftpd.pid /run/pure-ftpd/pure-ftpd.pid; do
    if [ -s "$pf" ] && kill -0 "$(cat "$pf")" 2>/dev/null; then
        /etc/init.d/"$(basename "$pf" .pid)" stop || true
    fi
done
echo "peers installed under $PEERS_DIR (vsftpd in /usr/sbin)"
