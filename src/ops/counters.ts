// Runtime counters of a server (the redis split: declared data elsewhere,
// counts here). Plain numbers, bumped where things happen; stats(), the
// metrics endpoint and the status line read them.
import { TransferError, type TransferResult } from '../engine/engine.js';
import { type DataAddressClass, dataAddressClasses } from './address-truth.js';

export const limitNames = [
  'maxClients',
  'maxPerIp',
  'loginTimeout',
  'idleTimeout',
  'dataTimeout',
  /** The failed-login cap of one connection (--max-login-failures). */
  'loginFailures',
  /** The failed-login cap of one address over its connections (--max-login-failures-per-ip): the failure that reached it and each PASS refused after. */
  'loginFailuresPerIp',
  /** A PASS refused because --auth-queue checks were already waiting for a password thread. */
  'authQueueFull',
  'outputOverflow',
  /** Closing connections closed without their last replies: the client read none of them for --close-timeout. */
  'closeTimeout',
  /** PORT/EPRT refused as an FTP bounce (another host or a privileged port; see --allow-foreign-data). */
  'bounce',
] as const;
export type LimitName = (typeof limitNames)[number];

export const transferOutcomes = ['ok', 'aborted', 'peerClosed', 'noConnection', 'timeout', 'tlsFailed', 'tlsNotResumed', 'error'] as const;
export type TransferOutcome = (typeof transferOutcomes)[number];

export type TransferKind = 'download' | 'upload' | 'listing';

export interface CounterSnapshot {
  /** Sessions opened since start (those refused by --max-clients or --max-per-ip never reach TypeScript). */
  sessionsTotal: number;
  /** Engine threads whose loop failed (each stops the server). */
  loopFailures: number;
  /** Commands run, by verb (only verbs of the command table, so the label set stays bounded). */
  commands: Record<string, number>;
  /** Data bytes sent to clients (downloads, listings) and received (uploads). */
  bytesOut: number;
  bytesIn: number;
  transfers: Record<TransferOutcome, number>;
  transfersRunning: number;
  /** Times each limit was hit (maxClients and maxPerIp are filled in from the engine's counts). */
  limits: Record<LimitName, number>;
  /** Data connections by address class (ops/address-truth.ts, docs/middlebox.md). */
  dataAddresses: Record<DataAddressClass, number>;
  /**
   * Connections to a shared passive port closed as late: from a host whose
   * reservation of that port had just ended (a second connection, or one
   * after a second PASV or the session's close). No address class: not foreign.
   */
  passiveLate: number;
}

export function outcomeOf(result: TransferResult): TransferOutcome {
  switch (result.error) {
    case TransferError.Ok:
      return 'ok';
    case TransferError.Aborted:
      return 'aborted';
    case TransferError.PeerClosed:
      return 'peerClosed';
    case TransferError.NoDataConnection:
    case TransferError.ConnectFailed:
      return 'noConnection';
    case TransferError.Timeout:
      return 'timeout';
    // A PROT P data connection's handshake failed.
    case TransferError.TlsFailed:
      return 'tlsFailed';
    // A PROT P data connection that did not resume its control connection's session (--tls-session-reuse required).
    case TransferError.TlsNotResumed:
      return 'tlsNotResumed';
    default:
      return 'error';
  }
}

const zeros = <K extends string>(keys: readonly K[]): Record<K, number> =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export class Counters {
  sessionsTotal = 0;
  /** Engine threads whose loop failed (each stops the server). */
  loopFailures = 0;
  bytesOut = 0;
  bytesIn = 0;
  transfersRunning = 0;
  passiveLate = 0;
  /** Runs by verb; a verb appears once it has run. */
  private readonly commands = new Map<string, { runs: number }>();
  readonly transfers = zeros(transferOutcomes);
  readonly limits = zeros(limitNames);
  readonly dataAddresses = zeros(dataAddressClasses);

  /**
   * Counts the runs of `verb`: what instrument() calls on every command,
   * looking nothing up (a Map get and set of the verb per command before).
   */
  commandCounter(verb: string): () => void {
    let cell = this.commands.get(verb);
    if (cell === undefined) {
      cell = { runs: 0 };
      this.commands.set(verb, cell);
    }
    const counted = cell;
    return () => {
      counted.runs += 1;
    };
  }

  limit(name: LimitName): void {
    this.limits[name] += 1;
  }

  transferStarted(): void {
    this.transfersRunning += 1;
  }

  /** A transfer whose file did not open: no longer running, and not a transfer outcome. */
  transferRefused(): void {
    this.transfersRunning -= 1;
  }

  transferEnded(kind: TransferKind, result: TransferResult): TransferOutcome {
    this.transfersRunning -= 1;
    if (kind === 'upload') this.bytesIn += result.bytes;
    else this.bytesOut += result.bytes;
    const outcome = outcomeOf(result);
    this.transfers[outcome] += 1;
    if (outcome === 'timeout') this.limit('dataTimeout');
    return outcome;
  }

  /**
   * `engine`: the engine's refusals past --max-clients (rejected) and
   * --max-per-ip (rejectedPerIp), and the passive data connections it counts
   * (passiveControlPeer).
   */
  snapshot(engine: { rejected: number; rejectedPerIp: number; passiveControlPeer: number }): CounterSnapshot {
    return {
      sessionsTotal: this.sessionsTotal,
      loopFailures: this.loopFailures,
      commands: runsByVerb(this.commands),
      bytesOut: this.bytesOut,
      bytesIn: this.bytesIn,
      transfers: { ...this.transfers },
      transfersRunning: this.transfersRunning,
      limits: { ...this.limits, maxClients: engine.rejected, maxPerIp: engine.rejectedPerIp },
      dataAddresses: { ...this.dataAddresses, passiveControlPeer: this.dataAddresses.passiveControlPeer + engine.passiveControlPeer },
      passiveLate: this.passiveLate,
    };
  }
}

function runsByVerb(cells: ReadonlyMap<string, { runs: number }>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [verb, { runs }] of cells) if (runs > 0) out[verb] = runs;
  return out;
}
