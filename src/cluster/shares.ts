// How the server processes of --processes divide what cannot be shared: the
// passive port range (each process owns a contiguous slice, so a data
// connection always reaches the process whose client asked for it).
import { ConfigError } from '../errors.js';
import type { PortRange } from '../config/settings.js';

/** `range` cut into `n` contiguous slices, the first ones one port larger when it does not divide. */
export function pasvSlices(range: PortRange | null, n: number): (PortRange | null)[] {
  if (range === null) return Array.from({ length: n }, () => null);
  const size = range.max - range.min + 1;
  if (size < n) {
    throw new ConfigError('MUXFTPD_ERR_BAD_PASV_PORTS', `--pasv-ports ${range.min}-${range.max} has ${size} ports, fewer than the ${n} --processes: each needs a slice of its own`);
  }
  const slices: PortRange[] = [];
  let min = range.min;
  for (let i = 0; i < n; i += 1) {
    const ports = Math.floor(size / n) + (i < size % n ? 1 : 0);
    slices.push({ min, max: min + ports - 1 });
    min += ports;
  }
  return slices;
}
