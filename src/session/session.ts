// Per-session state: what the commands of one client have set so far. Pure
// data plus small transitions; the order in which lines run lives in
// connection.ts.
import type { Endpoint, SessionId } from '../engine/engine.js';
import type { DataTruth } from '../ops/address-truth.js';
import { type NetProtocol, protocolOf } from '../protocol/address.js';
import { type MlstFact, mlstFacts } from '../vfs/facts.js';

/** How the next transfer gets its data connection. */
export type DataSetup =
  | { readonly kind: 'none' }
  // The port is 0 until the worker reports the listener up (PASV and EPSV do not wait for it).
  | { readonly kind: 'passive'; port: number }
  | { readonly kind: 'active'; readonly host: string; readonly port: number };

export type TransferType = 'A' | 'I';

/**
 * What the server offers this session (--tls-cert, --tls-required): 'off',
 * no FTPS; 'offered', AUTH TLS may be used; 'required', USER, PASS and
 * transfers need it (RFC 4217 14).
 */
export type TlsOffer = 'off' | 'offered' | 'required';

/**
 * The control connection's protection (RFC 4217): 'none', clear; 'starting',
 * 234 sent and the handshake under way (no line is run until it ends);
 * 'on', TLS (after AUTH, or from the start on the implicit listener);
 * 'cleared', back to clear after CCC.
 */
export type ControlTls = 'none' | 'starting' | 'on' | 'cleared';

const noData: DataSetup = { kind: 'none' };

export class Session {
  user: string | null = null;
  loggedIn = false;
  /** Failed PASS commands so far on this connection. */
  loginFailures = 0;
  /** The account's home in the served root: the session's '/' (all of the root for anonymous). */
  home = '/';
  /** Uploads, deletes, renames and MKD are allowed (per account, or --writable for anonymous). */
  writable = false;
  cwd = '/';
  /** RFC 959 4.1.3: the virtual path RNFR named, waiting for RNTO. */
  renameFrom: string | null = null;
  /** RFC 3659 7.9: the facts MLST and MLSD show (OPTS MLST selects them). */
  facts: readonly MlstFact[] = mlstFacts;
  /** RFC 959 3.1.1.1: ASCII is the default type. Data is sent unconverted either way. */
  type: TransferType = 'A';
  restOffset = 0;
  data: DataSetup = noData;
  /** What the last PASV/EPSV/PORT/EPRT said, for the address truth of its data connection (ops/address-truth.ts). */
  truth: DataTruth | undefined = undefined;
  /** RFC 7151: the host HOST named (lower case), or null. */
  host: string | null = null;
  /** RFC 2428 4: after EPSV ALL only EPSV may set up data connections. */
  epsvAll = false;
  /** A data transfer is running (set around the engine's transfer promise). */
  transferring = false;
  /** RFC 4217 4: the control connection's protection. */
  controlTls: ControlTls;
  /** RFC 4217 8: PBSZ 0 was given after TLS was on (PROT needs it). */
  pbsz = false;
  /** RFC 4217 9: the data connections' protection level (C clear, P private). */
  prot: 'C' | 'P' = 'C';

  constructor(
    readonly sid: SessionId,
    readonly peer: Endpoint,
    readonly local: Endpoint,
    readonly tlsOffer: TlsOffer = 'off',
    /** The session came from the implicit FTPS listener: TLS from its first byte. */
    implicitTls = false,
  ) {
    this.controlTls = implicitTls ? 'on' : 'none';
  }

  /** AUTH TLS succeeded (or the session is implicit FTPS), whether or not CCC cleared the control connection since. */
  get tlsDone(): boolean {
    return this.controlTls === 'on' || this.controlTls === 'cleared';
  }

  /** RFC 2428 protocol of the control connection. */
  get protocol(): NetProtocol {
    return protocolOf(this.local.address);
  }

  /**
   * The data setup for a transfer: it is used once, the client sets up the
   * next one anew (runTransfer gives it back when the transfer's file did not open).
   */
  takeData(): DataSetup {
    const data = this.data;
    this.data = noData;
    return data;
  }

  clearData(): void {
    this.data = noData;
  }

  /** RNTO uses the RNFR path once. */
  takeRenameFrom(): string | null {
    const from = this.renameFrom;
    this.renameFrom = null;
    return from;
  }

  /** The REST offset applies to the next transfer only. */
  takeRest(): number {
    const offset = this.restOffset;
    this.restOffset = 0;
    return offset;
  }
}
