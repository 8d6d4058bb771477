#!/usr/bin/env python3
"""Bounded FTP client load for the NAT lab (python3 standard library only).

  clients.py load --host H --port P --manifest FILE [--clients N] [--rounds R]
                  [--modes epsv,pasv,port,eprt] [--timeout S] [--deadline S]
      N clients log in and wait at a barrier, so all N control connections are
      open at once; then each downloads R files, cycling through the manifest
      ({"name": "sha256hex", ...}), in mode modes[i % len(modes)], and checks
      every byte by sha256. Prints one JSON summary line; exit 0 only when
      every transfer was right.
  clients.py pasv --host H --port P    print the raw reply to PASV
  clients.py stat --host H --port P    print the reply to STAT (the server's view of us)

PASV replies are trusted (the data connection goes to the announced address),
unlike curl's and ftplib's defaults: that is what checks --pasv-address.
Every socket has a timeout and the whole run has a deadline.
"""
import argparse
import collections
import ftplib
import hashlib
import json
import re
import socket
import sys
import threading
import time


def connect(host, port, timeout):
    ftp = ftplib.FTP(timeout=timeout)
    ftp.connect(host, port)
    ftp.login()  # anonymous
    ftp.voidcmd('TYPE I')
    return ftp


def open_data(ftp, mode, timeout):
    """Set up the data connection for the next transfer.

    Returns (sock, listener): a connected socket for passive modes, or a
    listening socket to accept from after the transfer command for active ones.
    """
    if mode == 'epsv':
        resp = ftp.sendcmd('EPSV')
        m = re.search(r'\(\|\|\|(\d+)\|\)', resp)
        if not m:
            raise ValueError('bad EPSV reply: ' + resp)
        host = ftp.sock.getpeername()[0]
        return socket.create_connection((host, int(m.group(1))), timeout), None
    if mode == 'pasv':
        resp = ftp.sendcmd('PASV')
        m = re.search(r'(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)', resp)
        if not m:
            raise ValueError('bad PASV reply: ' + resp)
        n = [int(x) for x in m.groups()]
        host = '%d.%d.%d.%d' % tuple(n[:4])
        return socket.create_connection((host, n[4] * 256 + n[5]), timeout), None
    # Active: listen on the address our control connection uses; behind a NAT
    # that is the private address, which the helper must rewrite.
    local = ftp.sock.getsockname()[0]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.settimeout(timeout)
    listener.bind((local, 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    try:
        if mode == 'port':
            ftp.voidcmd('PORT %s,%d,%d' % (local.replace('.', ','), port >> 8, port & 255))
        elif mode == 'eprt':
            ftp.voidcmd('EPRT |1|%s|%d|' % (local, port))
        else:
            raise ValueError('unknown mode ' + mode)
    except BaseException:
        listener.close()
        raise
    return None, listener


def download(ftp, name, mode, timeout):
    sock, listener = open_data(ftp, mode, timeout)
    try:
        ftp.sendcmd('RETR ' + name)  # raises on 4xx/5xx, returns the 1xx
        if listener is not None:
            sock, _ = listener.accept()
            sock.settimeout(timeout)
        h = hashlib.sha256()
        size = 0
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            h.update(chunk)
            size += len(chunk)
        sock.close()
        sock = None
        ftp.voidresp()  # 226
        return h.hexdigest(), size
    finally:
        if sock is not None:
            sock.close()
        if listener is not None:
            listener.close()


def kind_of(exc):
    """A short, stable label for counting errors by kind."""
    if isinstance(exc, ftplib.Error):
        return 'ftp %s' % str(exc)[:3]
    if isinstance(exc, threading.BrokenBarrierError):
        return 'barrier broken'
    if isinstance(exc, OSError) and exc.errno is not None:
        return 'os %s' % (errno_name(exc.errno))
    return type(exc).__name__


def errno_name(n):
    import errno
    return errno.errorcode.get(n, str(n))


def cmd_load(args):
    with open(args.manifest) as f:
        manifest = json.load(f)
    names = sorted(manifest)
    modes = args.modes.split(',')
    lock = threading.Lock()
    stats = collections.Counter()
    errors = collections.Counter()
    samples = []
    logged_in = [0, 0]  # current, max
    barrier = threading.Barrier(args.clients)

    def note_error(where, exc):
        with lock:
            errors[where + ': ' + kind_of(exc)] += 1
            if len(samples) < 10:
                samples.append('%s: %r' % (where, exc))

    def client(i):
        mode = modes[i % len(modes)]
        ftp = None
        try:
            ftp = connect(args.host, args.port, args.timeout)
        except Exception as e:  # noqa: BLE001 - counted by kind
            note_error('login', e)
            barrier.abort()
            return
        with lock:
            logged_in[0] += 1
            logged_in[1] = max(logged_in[1], logged_in[0])
        try:
            # Every client holds its control connection open until all are in.
            try:
                barrier.wait(args.timeout * 2)
            except threading.BrokenBarrierError as e:
                note_error('barrier', e)
                return
            for r in range(args.rounds):
                name = names[(i + r) % len(names)]
                try:
                    digest, size = download(ftp, name, mode, args.timeout)
                except Exception as e:  # noqa: BLE001
                    note_error(mode, e)
                    return
                with lock:
                    if digest == manifest[name]:
                        stats['ok'] += 1
                        stats['ok_' + mode] += 1
                        stats['bytes'] += size
                    else:
                        stats['bad_checksum'] += 1
                        errors[mode + ': checksum mismatch'] += 1
            try:
                ftp.quit()
            except Exception as e:  # noqa: BLE001
                note_error('quit', e)
        finally:
            ftp.close()
            with lock:
                logged_in[0] -= 1

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.0, args.deadline - (time.monotonic() - started)))
    unfinished = sum(1 for t in threads if t.is_alive())
    expected = args.clients * args.rounds
    summary = {
        'clients': args.clients,
        'expected': expected,
        'ok': stats['ok'],
        'by_mode': {m: stats['ok_' + m] for m in modes},
        'bytes': stats['bytes'],
        'bad_checksum': stats['bad_checksum'],
        'max_logged_in_at_once': logged_in[1],
        'unfinished_clients': unfinished,
        'errors': dict(errors),
        'error_samples': samples,
        'seconds': round(time.monotonic() - started, 2),
    }
    print(json.dumps(summary), flush=True)
    return 0 if stats['ok'] == expected and unfinished == 0 else 1


def cmd_one(args, verb):
    ftp = connect(args.host, args.port, args.timeout)
    try:
        print(ftp.sendcmd(verb))
        ftp.quit()
    finally:
        ftp.close()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('command', choices=['load', 'pasv', 'stat'])
    p.add_argument('--host', required=True)
    p.add_argument('--port', type=int, default=2121)
    p.add_argument('--manifest')
    p.add_argument('--clients', type=int, default=200)
    p.add_argument('--rounds', type=int, default=2)
    p.add_argument('--modes', default='epsv,pasv,port,eprt')
    p.add_argument('--timeout', type=float, default=30.0, help='per socket operation, seconds')
    p.add_argument('--deadline', type=float, default=150.0, help='whole load run, seconds')
    args = p.parse_args()
    if args.command == 'load':
        if not args.manifest:
            p.error('load needs --manifest')
        if not 1 <= args.clients <= 5000 or not 1 <= args.rounds <= 100:
            p.error('--clients 1..5000, --rounds 1..100')
        return cmd_load(args)
    return cmd_one(args, args.command.upper())


if __name__ == '__main__':
    sys.exit(main())
