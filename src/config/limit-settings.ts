// The settings rows of the limits a hostile or broken client runs into
// (issue 6). Each has a sane default; 0 turns a limit off where that makes sense.
import type { Setting } from './settings.js';
import { boolean, byteSize, integer } from './validators.js';

export interface LimitConfig {
  maxPerIp: number;
  loginTimeout: number;
  idleTimeout: number;
  dataTimeout: number;
  closeTimeout: number;
  maxLoginFailures: number;
  maxLoginFailuresPerIp: number;
  loginFailureWindow: number;
  maxRate: number;
  maxRatePerClient: number;
  allowForeignData: boolean;
}

const gib = 1024 * 1024 * 1024;

export const limitSettings: { readonly [K in keyof LimitConfig]: Setting<LimitConfig[K]> } = {
  maxPerIp: {
    flag: '--max-per-ip',
    env: 'MUXFTPD_MAX_PER_IP',
    type: 'n',
    default: 0,
    defaultText: '0 (no limit: load generators open thousands from one host)',
    help: 'most clients at once from one address; more get 421 and are closed',
    validate: integer(0, 10_000_000),
  },
  loginTimeout: {
    flag: '--login-timeout',
    env: 'MUXFTPD_LOGIN_TIMEOUT',
    type: 'seconds',
    default: 60,
    defaultText: '60 s',
    help: 'seconds a client has to log in; then 421 and close (0: never)',
    validate: integer(0, 86_400),
  },
  idleTimeout: {
    flag: '--idle-timeout',
    env: 'MUXFTPD_IDLE_TIMEOUT',
    type: 'seconds',
    default: 300,
    defaultText: '300 s',
    help: 'seconds a logged-in client may send nothing (not counting its transfers and commands still being answered); then 421 and close (0: never)',
    validate: integer(0, 86_400),
  },
  dataTimeout: {
    flag: '--data-timeout',
    env: 'MUXFTPD_DATA_TIMEOUT',
    type: 'seconds',
    default: 300,
    defaultText: '300 s',
    help: 'seconds a data connection or passive listener may make no progress; then it is dropped (0: never)',
    validate: integer(0, 86_400),
  },
  closeTimeout: {
    flag: '--close-timeout',
    env: 'MUXFTPD_CLOSE_TIMEOUT',
    type: 'seconds',
    default: 10,
    defaultText: '10 s',
    help: 'seconds a closing connection waits while its client reads none of the last replies (a 221, a 421); then it is closed without them (0: never)',
    validate: integer(0, 86_400),
  },
  maxLoginFailures: {
    flag: '--max-login-failures',
    env: 'MUXFTPD_MAX_LOGIN_FAILURES',
    type: 'n',
    default: 3,
    defaultText: '3 failed logins',
    help: 'failed logins one connection may make; the last gets 421 and the connection is closed (0: no cap)',
    validate: integer(0, 1000),
  },
  maxLoginFailuresPerIp: {
    flag: '--max-login-failures-per-ip',
    env: 'MUXFTPD_MAX_LOGIN_FAILURES_PER_IP',
    type: 'n',
    default: 20,
    defaultText: '20 failed logins (logins that succeed never count: load generators log in thousands of times from one host)',
    help: 'failed logins one address may make within --login-failure-window, over all its connections; the one that reaches it gets 421 and its connection is closed, and so does every password login from that address until its oldest failure leaves the window (0: no cap)',
    validate: integer(0, 1000),
  },
  loginFailureWindow: {
    flag: '--login-failure-window',
    env: 'MUXFTPD_LOGIN_FAILURE_WINDOW',
    type: 'seconds',
    default: 60,
    defaultText: '60 s',
    help: "seconds over which --max-login-failures-per-ip counts an address's failed logins",
    validate: integer(1, 86_400),
  },
  maxRate: {
    flag: '--max-rate',
    env: 'MUXFTPD_MAX_RATE',
    type: 'bytes/s',
    default: 0,
    defaultText: '0 (unlimited)',
    help: 'bandwidth over all transfers, bytes per second (suffix k or m)',
    validate: byteSize(0, 64 * gib),
  },
  maxRatePerClient: {
    flag: '--max-rate-per-client',
    env: 'MUXFTPD_MAX_RATE_PER_CLIENT',
    type: 'bytes/s',
    default: 0,
    defaultText: '0 (unlimited)',
    help: 'bandwidth of one transfer, bytes per second (suffix k or m)',
    validate: byteSize(0, 64 * gib),
  },
  allowForeignData: {
    flag: '--allow-foreign-data',
    env: 'MUXFTPD_ALLOW_FOREIGN_DATA',
    type: 'bool',
    boolean: true,
    default: false,
    defaultText: 'false (PORT/EPRT only to the client itself, port 1024 or above)',
    help: 'let PORT/EPRT name another host or a privileged port (FTP bounce; only for tests of middleboxes)',
    validate: boolean,
  },
};
