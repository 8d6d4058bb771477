// The settings rows of who may log in and what they may change (issue 3):
// anonymous access, the accounts file, write access, the failed-login delay.
import path from 'node:path';
import type { Setting } from './settings.js';
import { boolean, integer, InvalidValue, text } from './validators.js';

export interface AccountConfig {
  writable: boolean;
  noAnonymous: boolean;
  users: string | null;
  loginFailDelay: number;
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
};
