// The settings rows of who may log in and what they may change (issue 3):
// anonymous access, the accounts file, write access, the failed-login delay,
// and the pool of threads that checks passwords (issue 20).
import path from 'node:path';
import type { Setting } from './settings.js';
import { boolean, integer, InvalidValue, text } from './validators.js';

export interface AccountConfig {
  writable: boolean;
  noAnonymous: boolean;
  users: string | null;
  loginFailDelay: number;
  authThreads: number;
  authQueue: number;
}

export const accountSettings: { readonly [K in keyof AccountConfig]: Setting<AccountConfig[K]> } = {
  writable: {
    flag: '--writable',
    env: 'MUXFTPD_WRITABLE',
    type: 'bool',
    boolean: true,
    default: false,
    defaultText: 'false (read-only: STOR, DELE, MKD, RNFR… get 550)',
    help: 'let anonymous sessions upload, delete, rename and make directories (accounts have their own ro/rw)',
    validate: boolean,
  },
  noAnonymous: {
    flag: '--no-anonymous',
    env: 'MUXFTPD_NO_ANONYMOUS',
    type: 'bool',
    boolean: true,
    default: false,
    defaultText: 'false (any name and password log in anonymously)',
    help: 'refuse anonymous logins: only the accounts of --users log in',
    validate: boolean,
  },
  users: {
    flag: '--users',
    env: 'MUXFTPD_USERS',
    type: 'file',
    default: null,
    defaultText: 'none',
    help: 'accounts file, one "name:scrypt-hash:home:ro|rw" a line (hash from muxftpd --hash-password)',
    validate: (raw) => {
      if (raw === null) return null;
      const file = text(raw);
      if (file === '' || file.includes('\0')) throw new InvalidValue('must be a file path');
      return path.resolve(file);
    },
  },
  loginFailDelay: {
    flag: '--login-fail-delay',
    env: 'MUXFTPD_LOGIN_FAIL_DELAY',
    type: 'ms',
    default: 1000,
    defaultText: '1000 ms',
    help: 'milliseconds before a failed login gets its 530 (slows password guessing)',
    validate: integer(0, 60_000),
  },
  authThreads: {
    flag: '--auth-threads',
    env: 'MUXFTPD_AUTH_THREADS',
    type: 'n',
    default: 2,
    defaultText: '2 threads',
    help: 'threads that check passwords (scrypt: about 50 ms of one CPU and 16 MiB a check); file work never waits for them',
    validate: integer(1, 64),
  },
  authQueue: {
    flag: '--auth-queue',
    env: 'MUXFTPD_AUTH_QUEUE',
    type: 'n',
    default: 1000,
    defaultText: '1000 checks (about 25 s of work for 2 threads, within --login-timeout)',
    help: 'password checks that may wait for an --auth-threads thread; a PASS beyond them gets 421 and its connection is closed (0: none wait)',
    validate: integer(0, 100_000),
  },
};
