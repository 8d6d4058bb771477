// results.md's section on the TLS rows: what the server spent per operation
// (its process tree's CPU ÷ the operations, median round), the full
// handshakes each server did per second of its own CPU, and the limit
// `openssl speed` gives for the one P-256 signature a full handshake costs.

import { round } from '../client/report.js';
import { findCell } from './figures.js';
import type { Cell, CompareResult } from './result.js';
import type { MatrixScenario } from './scenarios.js';

/** µs of server CPU per operation (per MB for a stream), or null. */
export function cpuPerOp(cell: Cell | undefined, sc: MatrixScenario): number | null {
  const r = cell?.report;
  const cores = cell?.cpu?.serverCores;
  if (!r || cores == null) return null;
  const rate = sc.metric === 'mbPerSec' ? r.mbPerSec : r.opsPerSec;
  return rate > 0 ? round((cores * 1e6) / rate, 0) : null;
}

/** Full TLS handshakes per second per core of the server's own CPU, or null. */
export function handshakesPerCore(cell: Cell | undefined): number | null {
  const hs = cell?.report?.tls?.fullHandshakesPerSec;
  const cores = cell?.cpu?.serverCores;
  return hs && cores ? round(hs / cores, 0) : null;
}

export function formatTlsSection(result: CompareResult, servers: readonly string[]): string[] {
  const rows = result.scenarios.filter((s) => s.tls && !s.from && s.metric !== 'aliveAtEnd');
  if (!result.tls || rows.length === 0) return [];
  const t = result.tls;
  const lines = ['', `## TLS rows: server CPU per operation, and the handshake limit`, '',
    `Explicit FTPS (AUTH TLS, then USER/PASS, PBSZ 0 and PROT P before the first transfer), TLS ${t.version} only, ` +
    'key exchange P-256 (offered first: vsftpd and pure-ftpd accept no other), every server given the same ECDSA P-256 ' +
    'certificate made for this run; every data connection resumes the FTP session\'s TLS session (pure-ftpd 1.0.50 ' +
    'issues no TLS 1.3 tickets, so its TLS 1.3 data connections are full handshakes). ftpload does not verify the ' +
    `certificate. Certificate: \`${t.cert}\`.`, ''];
  if (t.failure) lines.push(`Not run: ${t.failure}.`, '');
  const limit = t.signLimit;
  lines.push(limit
    ? `Limit: \`${limit.command}\` (${limit.library}): ${Math.round(limit.signPerSec)} P-256 signatures/s on one core ` +
      `(${Math.round(limit.verifyPerSec)} verifications/s): a server can do at most that many full handshakes per second ` +
      'per core (one signature each; the key exchange and the rest come on top).'
    : 'Limit: `openssl speed` could not be run (Debian package openssl).', '');
  lines.push('Server CPU per operation (µs; per MB for a stream) = the server process tree\'s cores × 10^6 ÷ its rate, median round:', '');
  lines.push(`| scenario | ${servers.join(' | ')} |`);
  lines.push(`|---|${servers.map(() => '---:').join('|')}|`);
  for (const sc of rows) {
    const row = servers.map((s) => {
      const v = cpuPerOp(findCell(result, s, sc.name), sc);
      return v === null ? '—' : String(v);
    });
    lines.push(`| ${sc.name} | ${row.join(' | ')} |`);
  }
  const login = rows.find((s) => s.name === 'tls-login');
  if (login) {
    const row = servers.map((s) => {
      const v = handshakesPerCore(findCell(result, s, login.name));
      return v === null ? '—' : `${v}${limit ? ` (${Math.round((100 * v) / limit.signPerSec)}%)` : ''}`;
    });
    lines.push(`| full handshakes/s per server core (tls-login${limit ? '; % of the signature limit' : ''}) | ${row.join(' | ')} |`);
  }
  const counts = servers.map((s) => {
    const tl = result.scenarios.filter((sc) => sc.tls && !sc.from).map((sc) => findCell(result, s, sc.name)?.report?.tls)
      .filter((x) => x != null);
    const data = tl.reduce((a, x) => a + x.dataHandshakes, 0);
    const resumed = tl.reduce((a, x) => a + x.dataResumed, 0);
    return data > 0 ? `${resumed}/${data}` : '—';
  });
  lines.push(`| data connections resumed (median rounds) | ${counts.join(' | ')} |`);
  return lines;
}
