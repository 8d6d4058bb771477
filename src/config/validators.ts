// Validators shared by the rows of the settings tables. Each accepts the
// string form (flags, environment, a config file's strings) and the typed form
// (startServer options, a config file's numbers and booleans).
import path from 'node:path';

export class InvalidValue extends Error {}

export function text(raw: unknown): string {
  if (typeof raw !== 'string') throw new InvalidValue('must be a string');
  return raw;
}

export function integer(min: number, max: number): (raw: unknown) => number {
  return (raw) => {
    const n = typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidValue(`must be an integer from ${min} to ${max}`);
    }
    return n;
  };
}

/** 'a size from 4k to 64m (bytes, or with suffix k or m)' */
function sizeRange(min: number, max: number): string {
  const show = (n: number) => (n === 0 ? '0' : n < 1024 * 1024 ? `${n / 1024}k` : `${n / (1024 * 1024)}m`);
  return `a size from ${show(min)} to ${show(max)} (bytes, or with suffix k or m)`;
}

export function byteSize(min: number, max: number): (raw: unknown) => number {
  const units: Record<string, number> = { '': 1, k: 1024, m: 1024 * 1024 };
  const reason = `must be ${sizeRange(min, max)}`;
  return (raw) => {
    let n = raw;
    if (typeof raw === 'string') {
      const m = /^(\d+)(?:([kKmM])(?:i?[bB])?)?$/.exec(raw);
      n = m === null ? NaN : Number(m[1]) * (units[(m[2] ?? '').toLowerCase()] ?? NaN);
    }
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) throw new InvalidValue(reason);
    return n;
  };
}

/** `byteSize(min, max)`, or 0 (or '0'): off. */
export function byteSizeOrOff(min: number, max: number): (raw: unknown) => number {
  const size = byteSize(min, max);
  const reason = `must be 0 (off) or ${sizeRange(min, max)}`;
  return (raw) => {
    if (raw === 0 || raw === '0') return 0;
    try {
      return size(raw);
    } catch {
      throw new InvalidValue(reason);
    }
  };
}

export function oneOf<T extends string>(values: readonly T[]): (raw: unknown) => T {
  return (raw) => {
    if (typeof raw !== 'string' || !(values as readonly string[]).includes(raw)) {
      throw new InvalidValue(`must be one of ${values.join(', ')}`);
    }
    return raw as T;
  };
}

/** true/false, yes/no, 1/0, on/off; a bare flag means true. */
export function boolean(raw: unknown): boolean {
  if (typeof raw === 'boolean') return raw;
  const t = typeof raw === 'string' ? raw.toLowerCase() : '';
  if (['true', 'yes', '1', 'on'].includes(t)) return true;
  if (['false', 'no', '0', 'off'].includes(t)) return false;
  throw new InvalidValue('must be true or false');
}

/** A file path (null: none), resolved against the current directory. */
export function filePath(raw: unknown): string | null {
  if (raw === null) return null;
  const file = text(raw);
  if (file === '' || file.includes('\0')) throw new InvalidValue('must be a file path');
  return path.resolve(file);
}
