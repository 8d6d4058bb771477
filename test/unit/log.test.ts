// The two log formats: JSON objects for programs, short lines for a person at
// a terminal ('auto' picks by whether stderr is one).
import { describe, expect, it } from 'vitest';
import { createLogger, resolveLogFormat } from '../../src/log.js';

describe('log formats', () => {
  it('pretty: time, level, message and fields on one short line; below the level nothing', () => {
    const lines: string[] = [];
    const log = createLogger('info', (l) => lines.push(l), 'pretty');
    log.warn('passive listener failed', { sid: 7, errno: 104 });
    log.info('listening');
    log.debug('not shown');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d WARN  passive listener failed sid=7 errno=104$/);
    expect(lines[1]).toMatch(/^\d\d:\d\d:\d\d INFO  listening$/);
  });

  it('json: one object a line, with the fields as keys', () => {
    const lines: string[] = [];
    createLogger('debug', (l) => lines.push(l), 'json').debug('a transfer', { sid: 3, bytes: 10 });
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ level: 20, msg: 'a transfer', sid: 3, bytes: 10 });
  });

  it("'auto' is pretty on a terminal and JSON elsewhere", () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });
});
