import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helpText } from '../../src/config/help.js';
import { errorCode, loadConfig, parseFlags } from '../../src/config/load.js';
import { packageRoot } from '../../src/config/package-root.js';
import { settingNames, settings } from '../../src/config/settings.js';
import { ConfigError } from '../../src/errors.js';

let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-settings-'));
  file = path.join(dir, 'file');
  await writeFile(file, '');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function failure(p: Promise<unknown>): Promise<ConfigError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (!(e instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(e)}`);
  return e;
}

describe('settings table', () => {
  it('gives every setting a flag, an env var, a type, a default text and help', () => {
    for (const name of settingNames) {
      const s = settings[name];
      expect(s.flag, name).toMatch(/^--[a-z][a-z-]*$/);
      expect(s.env, name).toMatch(/^MUXFTPD_[A-Z_]+$/);
      expect(s.type, name).not.toBe('');
      expect(s.defaultText, name).not.toBe('');
      expect(s.help, name).not.toBe('');
    }
  });

  it('has unique flags and env vars', () => {
    const flags = settingNames.map((n) => settings[n].flag);
    const envs = settingNames.map((n) => settings[n].env);
    expect(new Set(flags).size).toBe(flags.length);
    expect(new Set(envs).size).toBe(envs.length);
  });

  it('lists every flag in --help', () => {
    const help = helpText();
    for (const name of settingNames) expect(help).toContain(settings[name].flag);
    expect(help).toContain('--help');
    expect(help).toContain('--version');
  });
});

describe('loadConfig', () => {
  it('uses the defaults', async () => {
    const c = await loadConfig({});
    expect(c).toMatchObject({
      host: '::',
      port: 2121,
      root: path.resolve(packageRoot, 'FTP_FILES'),
      threads: os.availableParallelism(),
      clientsPerThread: 5000,
      maxClients: 20000,
      blockSize: 256 * 1024,
      pasvPorts: null,
      pasvAddress: null,
      copy: 'sendfile',
      maxLine: 8192,
      logLevel: 'info',
    });
  });

  it('reads environment variables', async () => {
    const c = await loadConfig({
      env: { MUXFTPD_PORT: '2999', MUXFTPD_BLOCK_SIZE: '64k', MUXFTPD_PASV_PORTS: '50000-50100', MUXFTPD_ROOT: dir },
    });
    expect(c).toMatchObject({ port: 2999, blockSize: 65536, pasvPorts: { min: 50000, max: 50100 }, root: dir });
  });

  it('ignores empty environment variables', async () => {
    expect((await loadConfig({ env: { MUXFTPD_PORT: '' } })).port).toBe(2121);
  });

  it('lets flags win over the environment, and the environment over options', async () => {
    expect((await loadConfig({ env: { MUXFTPD_PORT: '1' }, flags: { port: '2' } })).port).toBe(2);
    expect((await loadConfig({ env: { MUXFTPD_PORT: '1' }, options: { port: 3 } })).port).toBe(1);
  });

  it('accepts typed options as startServer passes them', async () => {
    const c = await loadConfig({ options: { port: 0, pasvPorts: { min: 2000, max: 2001 }, blockSize: 8192, root: dir } });
    expect(c).toMatchObject({ port: 0, pasvPorts: { min: 2000, max: 2001 }, blockSize: 8192, root: dir });
  });

  it('parses size suffixes', async () => {
    for (const [text, bytes] of [['64k', 65536], ['64K', 65536], ['64KiB', 65536], ['1m', 1048576], ['1MB', 1048576], ['8192', 8192]] as const) {
      expect((await loadConfig({ flags: { blockSize: text } })).blockSize, text).toBe(bytes);
    }
  });

  it('takes 0 or a size of at least 64 KiB for --upload-write-behind', async () => {
    for (const [raw, bytes] of [['0', 0], [0, 0], ['64k', 65536], ['1m', 1048576]] as const) {
      expect((await loadConfig({ flags: { uploadWriteBehind: String(raw) } })).uploadWriteBehind, String(raw)).toBe(bytes);
      expect((await loadConfig({ options: { uploadWriteBehind: raw } })).uploadWriteBehind, String(raw)).toBe(bytes);
    }
    const e = await failure(loadConfig({ flags: { uploadWriteBehind: '4k' } }));
    expect(e.code).toBe('MUXFTPD_ERR_BAD_UPLOAD_WRITE_BEHIND');
    expect(e.message).toContain('must be 0 (off) or a size from 64k to 1024m');
  });

  const bad: [Parameters<typeof loadConfig>[0], string][] = [
    [{ flags: { host: 'example.com' } }, 'MUXFTPD_ERR_BAD_HOST'],
    [{ flags: { port: '70000' } }, 'MUXFTPD_ERR_BAD_PORT'],
    [{ flags: { port: '-1' } }, 'MUXFTPD_ERR_BAD_PORT'],
    [{ flags: { port: '21a' } }, 'MUXFTPD_ERR_BAD_PORT'],
    [{ flags: { threads: '0' } }, 'MUXFTPD_ERR_BAD_THREADS'],
    [{ flags: { clientsPerThread: '0' } }, 'MUXFTPD_ERR_BAD_CLIENTS_PER_THREAD'],
    [{ flags: { maxClients: 'many' } }, 'MUXFTPD_ERR_BAD_MAX_CLIENTS'],
    [{ flags: { blockSize: '1k' } }, 'MUXFTPD_ERR_BAD_BLOCK_SIZE'],
    [{ flags: { blockSize: '3x' } }, 'MUXFTPD_ERR_BAD_BLOCK_SIZE'],
    [{ flags: { pasvPorts: '2000-1000' } }, 'MUXFTPD_ERR_BAD_PASV_PORTS'],
    [{ flags: { pasvPorts: '80-90' } }, 'MUXFTPD_ERR_BAD_PASV_PORTS'],
    [{ flags: { pasvPorts: '50000' } }, 'MUXFTPD_ERR_BAD_PASV_PORTS'],
    [{ flags: { pasvAddress: '::1' } }, 'MUXFTPD_ERR_BAD_PASV_ADDRESS'],
    [{ flags: { copy: 'splice' } }, 'MUXFTPD_ERR_BAD_COPY'],
    [{ flags: { maxLine: '10' } }, 'MUXFTPD_ERR_BAD_MAX_LINE'],
    [{ flags: { logLevel: 'loud' } }, 'MUXFTPD_ERR_BAD_LOG_LEVEL'],
    [{ options: { port: '2121x' } }, 'MUXFTPD_ERR_BAD_PORT'],
    [{ options: { port: 1.5 } }, 'MUXFTPD_ERR_BAD_PORT'],
    [{ options: { prot: 21 } }, 'MUXFTPD_ERR_UNKNOWN_OPTION'],
  ];
  for (const [sources, code] of bad) {
    it(`refuses ${JSON.stringify(sources)} with ${code}`, async () => {
      expect((await failure(loadConfig(sources))).code).toBe(code);
    });
  }

  it('refuses a root that is missing or not a directory', async () => {
    expect((await failure(loadConfig({ flags: { root: path.join(dir, 'missing') } }))).code).toBe('MUXFTPD_ERR_BAD_ROOT');
    expect((await failure(loadConfig({ flags: { root: file } }))).code).toBe('MUXFTPD_ERR_BAD_ROOT');
  });

  it('names the flag, the value and its origin in one line', async () => {
    const e = await failure(loadConfig({ env: { MUXFTPD_PORT: 'abc' } }));
    expect(e.message).toBe('bad --port "abc" (from MUXFTPD_PORT): must be an integer from 0 to 65535 [MUXFTPD_ERR_BAD_PORT]');
    expect((await failure(loadConfig({ flags: { port: 'abc' } }))).message).toMatch(/^bad --port "abc": /);
    expect(e.message).not.toContain('\n');
  });

  it('derives error codes from the env var names', () => {
    expect(errorCode(settings.pasvPorts)).toBe('MUXFTPD_ERR_BAD_PASV_PORTS');
  });
});

describe('parseFlags', () => {
  it('maps flags to settings, both --flag value and --flag=value', () => {
    expect(parseFlags(['--port', '21', '--block-size=1m', '--pasv-ports', '50000-50010'])).toEqual({
      flags: { port: '21', blockSize: '1m', pasvPorts: '50000-50010' },
      help: false,
      version: false,
      printConfig: false,
      configFile: undefined,
    });
  });

  it('recognizes --help, -h and --version', () => {
    expect(parseFlags(['--help']).help).toBe(true);
    expect(parseFlags(['-h']).help).toBe(true);
    expect(parseFlags(['--version']).version).toBe(true);
  });

  it('refuses unknown flags, positionals and missing values with coded errors', () => {
    expect(() => parseFlags(['--prot', '1'])).toThrow(expect.objectContaining({ code: 'MUXFTPD_ERR_UNKNOWN_FLAG' }));
    expect(() => parseFlags(['serve'])).toThrow(expect.objectContaining({ code: 'MUXFTPD_ERR_UNKNOWN_FLAG' }));
    expect(() => parseFlags(['--port'])).toThrow(expect.objectContaining({ code: 'MUXFTPD_ERR_BAD_PORT' }));
  });
});
