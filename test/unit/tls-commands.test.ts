// AUTH, PBSZ, PROT and CCC against the fake engine: the order of replies and
// engine actions (the 234 before startTls, the CCC's 200 before
// clearControl), lines pipelined in clear behind AUTH TLS never run,
// --tls-required's refusals, FEAT's lines, and the transfer replies of the
// two TLS transfer errors.
import { describe, expect, it } from 'vitest';
import { TransferError } from '../../src/engine/engine.js';
import { harness, loggedIn } from './helpers/fake-engine.js';

const tls = { tlsCert: 'auto' } as const;

describe('AUTH TLS', () => {
  it('sends 234, then asks the engine to start TLS', async () => {
    const h = await harness({ config: tls });
    h.engine.sent.length = 0;
    h.send('AUTH TLS');
    expect(h.engine.sent).toEqual(['234 AUTH TLS successful.\r\n']);
    expect(h.engine.actions).toEqual(['startTls']);
  });

  it('AUTH SSL is the same; lowercase too', async () => {
    const h = await harness({ config: tls });
    h.send('auth ssl');
    expect(h.codes()).toEqual([220, 234]);
  });

  it('drops lines that arrive before the handshake ends (pipelined in clear behind AUTH), and runs those after', async () => {
    const h = await harness({ config: tls });
    h.send('AUTH TLS', 'USER injected', 'PASS x');
    expect(h.codes()).toEqual([220, 234]);
    h.server.onTlsReady(1, 'TLSv1.3', 'TLS_AES_256_GCM_SHA384');
    h.send('PWD');
    expect(h.codes()).toEqual([220, 234, 530]);
  });

  it('a second AUTH gets 503; an unknown mechanism 504', async () => {
    const h = await harness({ config: tls });
    h.send('AUTH KERBEROS_V4', 'AUTH TLS');
    h.server.onTlsReady(1, 'TLSv1.3', 'x');
    h.send('AUTH TLS');
    expect(h.codes()).toEqual([220, 504, 234, 503]);
  });

  it('without --tls-cert: 502, and FEAT lists no TLS line', async () => {
    const h = await harness();
    h.send('AUTH TLS', 'FEAT');
    expect(h.codes()).toEqual([220, 502, 211]);
    expect(h.engine.sent.join('')).not.toMatch(/AUTH TLS|PBSZ|PROT|CCC/);
    expect(h.engine.actions).toEqual([]);
  });

  it('with --tls-cert: FEAT lists AUTH TLS, PBSZ, PROT and CCC', async () => {
    const h = await harness({ config: tls });
    h.send('FEAT');
    const feat = h.engine.sent.join('');
    for (const line of [' AUTH TLS\r\n', ' PBSZ\r\n', ' PROT\r\n', ' CCC\r\n']) expect(feat).toContain(line);
  });
});

describe('PBSZ and PROT', () => {
  it('before AUTH: 503', async () => {
    const h = await harness({ config: tls });
    h.send('PBSZ 0', 'PROT P');
    expect(h.codes()).toEqual([220, 503, 503]);
  });

  it('after AUTH: PROT before PBSZ 503, PBSZ answers PBSZ=0, S/E 536, unknown 504, C and P set the engine', async () => {
    const h = await harness({ config: tls });
    h.send('AUTH TLS');
    h.server.onTlsReady(1, 'TLSv1.2', 'x');
    h.engine.sent.length = 0;
    h.send('PROT P', 'PBSZ 1024', 'PBSZ', 'PROT S', 'PROT E', 'PROT Q', 'PROT P', 'PROT C');
    expect(h.codes()).toEqual([503, 200, 501, 536, 536, 504, 200, 200]);
    expect(h.engine.sent[1]).toBe('200 PBSZ=0\r\n');
    expect(h.engine.actions).toEqual(['startTls', 'dataProtection private', 'dataProtection clear']);
  });

  it('on the implicit listener, TLS is on from the start: PBSZ and PROT without AUTH; AUTH gets 503', async () => {
    const h = await harness({ config: tls, implicitTls: true });
    h.send('PBSZ 0', 'PROT P', 'AUTH TLS');
    expect(h.codes()).toEqual([220, 200, 200, 503]);
  });
});

describe('CCC', () => {
  it('after AUTH and login: 200 over TLS, then the engine clears the control connection', async () => {
    const h = await harness({ config: tls });
    h.send('AUTH TLS');
    h.server.onTlsReady(1, 'TLSv1.3', 'x');
    h.send('USER anonymous', 'PASS x', 'CCC');
    expect(h.codes()).toEqual([220, 234, 331, 230, 200]);
    expect(h.engine.actions).toEqual(['startTls', 'clearControl']);
    h.server.onControlCleared(1);
    h.send('CCC', 'AUTH TLS');
    expect(h.codes().slice(5)).toEqual([533, 503]);
  });

  it('on a clear connection 533, before login 530, under --tls-required 534', async () => {
    const clear = await loggedIn({ config: tls });
    clear.send('CCC');
    expect(clear.codes()).toEqual([533]);
    const required = await harness({ config: { ...tls, tlsRequired: true } });
    required.send('AUTH TLS');
    required.server.onTlsReady(1, 'TLSv1.3', 'x');
    required.send('CCC', 'USER anonymous', 'PASS x', 'CCC');
    expect(required.codes()).toEqual([220, 234, 530, 331, 230, 534]);
  });
});

describe('--tls-required', () => {
  it('USER and PASS before AUTH get 530; after AUTH they log in', async () => {
    const h = await harness({ config: { ...tls, tlsRequired: true } });
    h.send('USER anonymous', 'PASS x', 'AUTH TLS');
    h.server.onTlsReady(1, 'TLSv1.3', 'x');
    h.send('USER anonymous', 'PASS x');
    expect(h.codes()).toEqual([220, 530, 530, 234, 331, 230]);
  });

  it('a transfer without PROT P gets 521; with it, it runs', async () => {
    const h = await harness({ config: { ...tls, tlsRequired: true } });
    h.send('AUTH TLS');
    h.server.onTlsReady(1, 'TLSv1.3', 'x');
    h.send('USER anonymous', 'PASS x', 'PORT 127,0,0,1,200,10', 'RETR file.bin');
    await h.settle();
    expect(h.codes()).toEqual([220, 234, 331, 230, 200, 521]);
    h.send('PBSZ 0', 'PROT P', 'RETR file.bin');
    await h.replies(9);
    expect(h.codes().slice(6)).toEqual([200, 200, 150]);
  });
});

describe('the TLS transfer errors', () => {
  it.each([
    ['TlsNotResumed', TransferError.TlsNotResumed, '522 SSL connection failed: session reuse required.\r\n'],
    ['TlsFailed', TransferError.TlsFailed, "425 Can't open data connection: TLS handshake failed.\r\n"],
  ])('%s is answered %s', async (_name, error, text) => {
    const h = await loggedIn({ config: tls });
    h.send('EPSV', 'RETR file.bin');
    await h.replies(2);
    h.engine.finish({ bytes: 0, error });
    await h.replies(3);
    expect(h.engine.sent[2]).toBe(text);
    expect((await h.server.stats()).transfers[_name === 'TlsFailed' ? 'tlsFailed' : 'tlsNotResumed']).toBe(1);
  });
});
