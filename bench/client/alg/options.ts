// `muxftpd-bench alg-suite`'s command line → SuiteOptions. Bad input throws
// BenchUsageError (the CLI prints it and exits 2).
import { parseArgs } from 'node:util';
import { address, BenchUsageError, int, num } from '../options.js';
import { probeNames } from './probes.js';
import type { SuiteOptions } from './suite.js';
import type { DataMode } from './verdict.js';

export interface AlgCli {
  suite: SuiteOptions;
  json: boolean;
  help: boolean;
}

export const algUsage = `Usage: muxftpd-bench alg-suite --host H --port P [options]

Runs every ALG probe in active and in passive mode against an FTP server
reached through the middlebox under test (NAT, firewall, FTP helper) and
prints a verdict table: probe, what a correct middlebox does, what happened,
pass/fail/why. Exit code 0 only when no probe failed (a skipped probe names
its reason); 1 when one did; 2 on a bad flag.

Active probes listen on the client's own address and put it in PORT/EPRT
(the only other address that ever goes into an argument is --probe-address,
in the third-party probe); the server's data connection must arrive there
from the server. The client connects only to --host and listens only on its
own address. Passive probes check the address of every 227
against the one expected and connect only to it. The control peer the server
sees (STAT "Connected to") tells whether a NAT sits between; ESTA/ESTP are
asked when the server lists them in FEAT. Every transfer is checked: RETR of
--file (its size by SIZE, its sha256 with --verify-local; otherwise every
transfer must match the first), or LIST.

Probes: ${probeNames.join(', ')}

Options:
  --host IP                 server address as the client dials it (required)
  --port N                  control port (required; one the middlebox's helper watches)
  --unwatched-port N        a second control port of the same server, one the helper
                            does not watch (the unwatched-port probe; skipped without)
  --expect-pasv-address A   the address a 227 must carry (default: --host)
  --probe-address A         third-party probe: PORT (EPRT on IPv6, and EPRT |1| too on
                            IPv4) names A instead of the client, with the port of the
                            client's own listener; the middlebox must pass it unchanged
                            and open no pinhole, the server must refuse it (FTP bounce).
                            The client never connects to A (skipped without)
  --user NAME, --pass WORD  login (default anonymous / bench@)
  --file PATH               remote file to RETR (default: LIST)
  --verify-local PATH       local copy of --file: every transfer must match its sha256
  --probes a,b,…            only these probes (default: all)
  --modes active,passive    only these modes (default: both)
  --split-at N              split: byte of the command line where the second segment
                            starts (default 9: "PORT 10,2|01,…")
  --split-pause-ms MS       split: pause between the two segments (default 200)
  --pause S                 pause: seconds between PORT/PASV and the transfer (default 2;
                            nf_conntrack_ftp's expectations live 300 s)
  --rounds N                rounds: PORT/PASV + transfer rounds on one session (default 10)
  --timeout S               any single wait for the server (default 10)
  --json                    print the result as JSON
  --help                    show this help
`;

/** An integer flag in min..max (the base parser checks the lower bound). */
function bounded(flag: string, v: string | undefined, min: number, max: number): number | undefined {
  const n = int(flag, v, min);
  if (n !== undefined && n > max) throw new BenchUsageError(`${flag}: at most ${max}, got '${v}'`);
  return n;
}

export function parseAlgCli(argv: readonly string[]): AlgCli {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        host: { type: 'string' },
        port: { type: 'string' },
        'unwatched-port': { type: 'string' },
        'expect-pasv-address': { type: 'string' },
        'probe-address': { type: 'string' },
        user: { type: 'string' },
        pass: { type: 'string' },
        file: { type: 'string' },
        'verify-local': { type: 'string' },
        probes: { type: 'string' },
        modes: { type: 'string' },
        'split-at': { type: 'string' },
        'split-pause-ms': { type: 'string' },
        pause: { type: 'string' },
        rounds: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new BenchUsageError((e as Error).message);
  }
  const v = parsed.values;
  const help = v.help === true;
  const host = address('--host', v.host);
  const port = bounded('--port', v.port, 1, 65535);
  if (!help && host === undefined) throw new BenchUsageError('alg-suite needs --host');
  if (!help && port === undefined) throw new BenchUsageError('alg-suite needs --port');
  const unwatchedPort = bounded('--unwatched-port', v['unwatched-port'], 1, 65535);
  if (unwatchedPort !== undefined && unwatchedPort === port) {
    throw new BenchUsageError('--unwatched-port must differ from --port');
  }
  if (v['verify-local'] !== undefined && v.file === undefined) {
    throw new BenchUsageError('--verify-local needs --file (the remote copy)');
  }
  const only = v.probes?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const p of only ?? []) {
    if (!probeNames.includes(p)) throw new BenchUsageError(`--probes: unknown probe '${p}' (one of ${probeNames.join(', ')})`);
  }
  const modes = (v.modes ?? 'active,passive').split(',').map((s) => s.trim());
  for (const m of modes) {
    if (m !== 'active' && m !== 'passive') throw new BenchUsageError(`--modes: active or passive, got '${m}'`);
  }
  const suite: SuiteOptions = {
    host: host ?? '127.0.0.1',
    port: port ?? 21,
    unwatchedPort,
    expectPasvAddress: address('--expect-pasv-address', v['expect-pasv-address']),
    probeAddress: address('--probe-address', v['probe-address']),
    user: v.user ?? 'anonymous',
    pass: v.pass ?? 'bench@',
    file: v.file,
    verifyLocal: v['verify-local'],
    only,
    modes: modes as DataMode[],
    splitAt: bounded('--split-at', v['split-at'], 1, 1000) ?? 9,
    splitPauseMs: bounded('--split-pause-ms', v['split-pause-ms'], 0, 600_000) ?? 200,
    pauseMs: Math.round((num('--pause', v.pause, 0) ?? 2) * 1000),
    rounds: bounded('--rounds', v.rounds, 1, 1000) ?? 10,
    timeoutMs: Math.round((num('--timeout', v.timeout, 0.1) ?? 10) * 1000),
  };
  return { suite, json: v.json === true, help };
}
