// --max-clients and --max-per-ip over several engines (issue 22): two
// servers, each with its own engine on its own port, count their clients in
// one client ledger (the addon's createClientLedger, which a primary hands to
// each of its server processes), so that each limit holds over both at once.
import { closeSync } from 'node:fs';
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildRegistry } from '../../src/commands/registry.js';
import { engineConfig } from '../../src/config/engine-config.js';
import { loadConfig } from '../../src/config/load.js';
import { Engine } from '../../src/engine/engine.js';
import { loadBinding } from '../../src/engine/native.js';
import { Server } from '../../src/server.js';
import { limitReplies } from '../../src/session/limits.js';
import { eventually, withTimeout } from './helpers/clients.js';
import { expectBaseline, type Fixture, makeFixture, resourceCounts, type ResourceCounts, testLog, warmUp } from './helpers/server.js';

const maxClients = 3;
const maxPerIp = 2;
const busy = limitReplies.maxClients.trim();
const perIp = limitReplies.maxPerIp.trim();

let fixture: Fixture;
let base: ResourceCounts;
const servers: Server[] = [];
const ports: number[] = [];
const clients: net.Socket[] = [];

beforeAll(async () => {
  fixture = await makeFixture();
  await warmUp();
  base = resourceCounts();
  const ledgerFd = loadBinding().createClientLedger(maxClients);
  try {
    for (let i = 0; i < 2; i++) {
      const config = await loadConfig({ options: { host: '0.0.0.0', port: 0, root: fixture.root, threads: 1, maxClients, maxPerIp } });
      const server = new Server({ config, commands: buildRegistry(), log: testLog() }, (h) => new Engine(engineConfig(config, { reusePort: false, ledgerFd }), h));
      servers.push(server);
      ports.push(server.engine.address().port);
    }
  } finally {
    // Each engine has mapped the ledger: the fd is the caller's, and not needed any more.
    closeSync(ledgerFd);
  }
}, 60_000);

afterAll(async () => {
  for (const s of servers.splice(0)) await s.close();
  await fixture.remove();
  await expectBaseline(base);
}, 60_000);

afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  expect(await eventually(() => servers.every((s) => s.sessions === 0 && s.stats().sessions === 0), 5_000)).toBe(true);
});

/** Connects to server `which` from `from` (127.0.0.x); the first line it gets. The client stays open. */
async function connect(which: number, from: string): Promise<string> {
  const socket = net.connect({ host: '127.0.0.1', port: ports[which] as number, localAddress: from });
  socket.on('error', () => {});
  clients.push(socket);
  return withTimeout(
    new Promise<string>((resolve) => {
      let text = '';
      socket.on('data', (c: Buffer) => {
        text += c.toString();
        if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')).trim());
      });
      socket.on('close', () => resolve(text.trim()));
    }),
    5_000,
    `first line from server ${which} for ${from}`,
  );
}

const limitHits = (name: 'maxClients' | 'maxPerIp') => servers.reduce((n, s) => n + s.stats().limits[name], 0);

describe('one client ledger, two engines', () => {
  it(`--max-clients ${maxClients} holds over both: a client more is refused on either`, async () => {
    expect(await connect(0, '127.0.0.1')).toMatch(/^220 /);
    expect(await connect(1, '127.0.0.2')).toMatch(/^220 /);
    expect(await connect(0, '127.0.0.3')).toMatch(/^220 /);
    const before = limitHits('maxClients');
    expect(await connect(1, '127.0.0.4')).toBe(busy);
    expect(await connect(0, '127.0.0.5')).toBe(busy);
    expect(limitHits('maxClients')).toBe(before + 2);
    expect(servers.map((s) => s.stats().limits.maxClients)).toEqual([1, 1]);
    // One leaves server 0: its slot is free on server 1.
    clients[0]?.destroy();
    expect(await eventually(async () => (await connect(1, '127.0.0.6')).startsWith('220 '), 5_000)).toBe(true);
  });

  it(`--max-per-ip ${maxPerIp} holds over both: a third client from one address is refused on either`, async () => {
    expect(await connect(0, '127.0.0.1')).toMatch(/^220 /);
    expect(await connect(1, '127.0.0.1')).toMatch(/^220 /);
    expect(await connect(0, '127.0.0.1')).toBe(perIp);
    expect(await connect(1, '127.0.0.1')).toBe(perIp);
    expect(servers.map((s) => s.stats().limits.maxPerIp)).toEqual([1, 1]);
    expect(await connect(1, '127.0.0.2')).toMatch(/^220 /);
    // The refused ones were never admitted: the total is 3 of 3, and the next is busy.
    expect(await connect(0, '127.0.0.3')).toBe(busy);
    clients[1]?.destroy();
    expect(await eventually(async () => (await connect(0, '127.0.0.1')).startsWith('220 '), 5_000)).toBe(true);
  });
});
