// The settings rows of running muxftpd for real (issue 7): transfer log,
// metrics endpoint, graceful shutdown.
import type { Setting } from './settings.js';
import { filePath, integer } from './validators.js';

export interface OpsConfig {
  xferlog: string | null;
  metricsPort: number | null;
  drainTimeout: number;
}

export const opsSettings: { readonly [K in keyof OpsConfig]: Setting<OpsConfig[K]> } = {
  xferlog: {
    flag: '--xferlog',
    env: 'MUXFTPD_XFERLOG',
    type: 'file',
    default: null,
    defaultText: 'none',
    help: 'append one line per file transfer to FILE, in the xferlog format of wu-ftpd, vsftpd and proftpd',
    validate: filePath,
  },
  metricsPort: {
    flag: '--metrics-port',
    env: 'MUXFTPD_METRICS_PORT',
    type: 'port',
    default: null,
    defaultText: 'off',
    help: 'serve Prometheus metrics over HTTP on this port of --host, at /metrics (0: any free port)',
    validate: (raw) => (raw === null ? null : integer(0, 65535)(raw)),
  },
  drainTimeout: {
    flag: '--drain-timeout',
    env: 'MUXFTPD_DRAIN_TIMEOUT',
    type: 'seconds',
    default: 10,
    defaultText: '10 s',
    help: 'on SIGTERM, seconds running transfers may take to finish before every client gets 421 and is closed',
    validate: integer(0, 86_400),
  },
};
