// The address-truth classes of issue 24, as the client counts them. They are
// the server's names (src/ops/address-truth.ts, docs/middlebox.md; the bench
// builds apart from src/, so test/unit/alg-verdict.test.ts checks the two
// lists are the same): for an active data connection what
// the server got in PORT/EPRT against the control peer it sees, for a passive
// one where the data connection came from. The client infers them from its
// end: its own address, the control peer the server reports (STAT), the
// address the server refused or connected from, and ESTA/ESTP when the
// server answers them.

export const activeClasses = ['activeAsSeen', 'activeNotRewritten', 'activeRewrittenElsewhere'] as const;
export type ActiveClass = (typeof activeClasses)[number];

export const passiveClasses = ['passiveControlPeer', 'passiveForeignRefused'] as const;
export type PassiveClass = (typeof passiveClasses)[number];

/** A 227/229 reply compared with the address the client expected in it. */
export const pasvReplyClasses = ['asExpected', 'unexpected'] as const;
export type PasvReplyClass = (typeof pasvReplyClasses)[number];

export type AddressClass = ActiveClass | PassiveClass;

/** Per-class counts, every class present (0 when never seen). */
export interface AddressCounts {
  active: Record<ActiveClass, number>;
  passive: Record<PassiveClass, number>;
  pasvReply: Record<PasvReplyClass, number>;
}

export function emptyCounts(): AddressCounts {
  const zero = <K extends string>(keys: readonly K[]): Record<K, number> =>
    Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
  return { active: zero(activeClasses), passive: zero(passiveClasses), pasvReply: zero(pasvReplyClasses) };
}
