// The client ledger the server processes share (native/engine/client_ledger.h):
// made here, in the primary, and inherited by each server process as an fd.
import { closeSync } from 'node:fs';
import { loadBinding } from '../engine/native.js';

export interface SharedLedger {
  /** The fd each server process inherits (stdio slot ledgerFdInChild). */
  readonly fd: number;
  close(): void;
}

export function clientLedger(maxClients: number): SharedLedger {
  const fd = loadBinding().createClientLedger(maxClients);
  let open = true;
  return {
    fd,
    close: () => {
      if (open) closeSync(fd);
      open = false;
    },
  };
}
