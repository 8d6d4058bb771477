import { describe, expect, it } from 'vitest';
import {
  epsvTemplate,
  fillPassive,
  ipv4Of,
  parseEprtArg,
  parsePortArg,
  pasvTemplate,
  protocolOf,
  sameHost,
} from '../../src/protocol/address.js';
import { formatReply } from '../../src/protocol/replies.js';

describe('PORT argument', () => {
  it('decodes h1,h2,h3,h4,p1,p2', () => {
    expect(parsePortArg('127,0,0,1,4,1')).toEqual({ host: '127.0.0.1', port: 1025 });
    expect(parsePortArg('10,1,2,3,255,255')).toEqual({ host: '10.1.2.3', port: 65535 });
  });

  it('refuses bytes above 255, missing fields and junk', () => {
    expect(parsePortArg('256,0,0,1,4,1')).toBeUndefined();
    expect(parsePortArg('127,0,0,1,4')).toBeUndefined();
    expect(parsePortArg('127,0,0,1,4,1,9')).toBeUndefined();
    expect(parsePortArg('a,0,0,1,4,1')).toBeUndefined();
    expect(parsePortArg('')).toBeUndefined();
  });
});

describe('EPRT argument', () => {
  it('decodes |1|addr|port|', () => {
    expect(parseEprtArg('|1|132.235.1.2|6275|')).toEqual({ ok: true, family: 1, host: '132.235.1.2', port: 6275 });
  });

  it('decodes |2|addr|port|', () => {
    expect(parseEprtArg('|2|1080::8:800:200C:417A|5282|')).toEqual({
      ok: true,
      family: 2,
      host: '1080::8:800:200C:417A',
      port: 5282,
    });
  });

  it('accepts another delimiter (RFC 2428 2)', () => {
    expect(parseEprtArg('!1!10.0.0.1!2000!')).toMatchObject({ ok: true, port: 2000 });
  });

  it('marks an unknown protocol number as unsupported (522), not malformed', () => {
    expect(parseEprtArg('|3|x|1|')).toEqual({ ok: false, unsupported: true });
  });

  it('refuses malformed arguments', () => {
    for (const bad of ['', '1|1.2.3.4|5|', '|1|1.2.3.4|5', '|1|::1|5|', '|2|1.2.3.4|5|', '|1|1.2.3.4|0|', '|1|1.2.3.4|70000|', '5151']) {
      expect(parseEprtArg(bad), bad).toEqual({ ok: false, unsupported: false });
    }
  });
});

describe('passive replies', () => {
  it('encodes PASV as 227 with h1..p2', () => {
    expect(fillPassive(formatReply(pasvTemplate('192.168.1.2')), 50000)).toBe('227 Entering Passive Mode (192,168,1,2,195,80).\r\n');
  });

  it('encodes EPSV as 229 with |||port|', () => {
    expect(fillPassive(formatReply(epsvTemplate()), 50000)).toBe('229 Entering Extended Passive Mode (|||50000|)\r\n');
  });
});

describe('address helpers', () => {
  it('finds the IPv4 of plain and mapped addresses', () => {
    expect(ipv4Of('10.0.0.1')).toBe('10.0.0.1');
    expect(ipv4Of('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(ipv4Of('::FFFF:10.0.0.1')).toBe('10.0.0.1');
    expect(ipv4Of('::1')).toBeUndefined();
    expect(ipv4Of('::ffff:999.0.0.1')).toBeUndefined();
  });

  it('tells the RFC 2428 protocol of a connection', () => {
    expect(protocolOf('127.0.0.1')).toBe(1);
    expect(protocolOf('::ffff:127.0.0.1')).toBe(1);
    expect(protocolOf('::1')).toBe(2);
  });

  it('compares hosts across notations', () => {
    expect(sameHost('127.0.0.1', '::ffff:127.0.0.1')).toBe(true);
    expect(sameHost('::1', '0:0:0:0:0:0:0:1')).toBe(true);
    expect(sameHost('FE80::1', 'fe80::1%eth0')).toBe(true);
    expect(sameHost('127.0.0.1', '127.0.0.2')).toBe(false);
    expect(sameHost('::1', '127.0.0.1')).toBe(false);
  });
});
