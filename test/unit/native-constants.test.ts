// The numeric enums of native/engine/protocol.h and src/engine/native.ts must
// agree: the addon exports its own values, and this compares them.
import { describe, expect, it } from 'vitest';
import { ActionType, CloseReason, EventType, loadBinding, TransferError } from '../../src/engine/native.js';

describe('native constants', () => {
  const { constants } = loadBinding();
  it('event types match', () => expect(constants.events).toEqual({ ...EventType }));
  it('action types match', () => expect(constants.actions).toEqual({ ...ActionType }));
  it('close reasons match', () => expect(constants.closeReasons).toEqual({ ...CloseReason }));
  it('transfer errors match', () => expect(constants.transferErrors).toEqual({ ...TransferError }));
});
