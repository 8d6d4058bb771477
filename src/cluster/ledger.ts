// The client ledger the server processes share (see native/engine/client_ledger.h).
export interface SharedLedger {
  /** The fd each server process inherits (stdio slot ledgerFdInChild). */
  readonly fd: number | 'ignore';
  close(): void;
}

export function clientLedger(_maxClients: number): SharedLedger {
  return { fd: 'ignore', close: () => undefined };
}
