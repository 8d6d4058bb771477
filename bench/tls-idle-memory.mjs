// Memory per idle TLS control session (issue 23: at most 8 KiB each). A server
// process runs the engine with TLS and a handler of two verbs (AUTH TLS
// starts TLS, anything else gets 200); client processes open sessions that
// log in to TLS (AUTH TLS, handshake, NOOP over TLS) and then sit idle. The
// server's RSS is read at two counts of sessions, so the fixed costs cancel:
//   per session = (RSS at N - RSS at N/10) / (N - N/10)
// and the same again with clear-text sessions, for the TLS share alone.
//   npm run build:ts && node bench/tls-idle-memory.mjs [N=5000] [tls|plain|both]
// Needs N + a few hundred fds in each process (ulimit -n).
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const perClientProcess = 4000;

function rssKiB() {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
}

async function server(withTls) {
  const { Engine } = await import('../dist/engine/engine.js');
  const { engineConfig } = await import('../dist/config/engine-config.js');
  const { defaultConfig } = await import('../dist/config/settings.js');
  const { loadBinding } = await import('../dist/engine/native.js');
  const made = loadBinding().makeSelfSignedCertificate('localhost');
  const config = { ...defaultConfig(), host: '127.0.0.1', port: 0, root: tmpdir(), threads: 2, maxClients: 100000, clientsPerThread: 100000, maxPerIp: 0 };
  const tlsConfig = withTls ? { cert: made.cert, key: made.key, sessionReuse: 'required', ktls: 'off' } : undefined;
  let engine;
  const handler = {
    onOpen: (sid) => engine.reply(sid, '220 ready\r\n'),
    onLine: (sid, line) => {
      if (line.toString('latin1') === 'AUTH TLS') {
        engine.reply(sid, '234 go ahead\r\n');
        engine.startTls(sid);
      } else {
        engine.reply(sid, '200 ok\r\n');
      }
    },
    onTlsReady() {}, onTlsFailed() {}, onControlCleared() {}, onClosed() {}, onDataFailed() {},
    onInputEnded: (sid) => engine.close(sid), onLoopFailed() {}, onError: (e) => console.error(e),
  };
  engine = new Engine(engineConfig(config, undefined, tlsConfig), handler);
  process.on('message', (m) => {
    if (m === 'rss') {
      global.gc?.();
      // Let the GC's freed pages go and the workers settle.
      setTimeout(() => process.send({ rss: rssKiB(), sessions: engine.stats().sessions }), 500);
    } else if (m === 'stop') {
      void engine.stop().then(() => process.exit(0));
    }
  });
  process.send({ port: engine.address().port });
}

async function clients(port, count, withTls) {
  const sockets = [];
  const one = () =>
    new Promise((resolve, reject) => {
      const raw = net.connect(port, '127.0.0.1');
      sockets.push(raw);
      raw.on('error', reject);
      let buf = '';
      const onData = (c) => {
        buf += c;
        if (buf.includes('220 ready\r\n') && !buf.includes('sent')) {
          buf = 'sent';
          raw.write(withTls ? 'AUTH TLS\r\n' : 'NOOP\r\n');
        } else if (withTls && buf.includes('234')) {
          raw.off('data', onData);
          const s = tls.connect({ socket: raw, rejectUnauthorized: false });
          sockets.push(s);
          s.on('error', reject);
          s.once('secureConnect', () => {
            s.write('NOOP\r\n');
            s.once('data', () => resolve());
          });
        } else if (!withTls && buf.includes('200 ok')) {
          resolve();
        }
      };
      raw.setEncoding('latin1');
      raw.on('data', onData);
    });
  // A few at a time: a burst of thousands of handshakes only measures the backlog.
  for (let i = 0; i < count; i += 50) {
    await Promise.all(Array.from({ length: Math.min(50, count - i) }, one));
  }
  process.send({ ready: count });
  process.on('message', (m) => {
    if (m === 'stop') {
      for (const s of sockets) s.destroy();
      process.exit(0);
    }
  });
}

function ask(child, message, key) {
  return new Promise((resolve) => {
    const on = (m) => {
      if (m[key] !== undefined) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    if (message !== undefined) child.send(message);
  });
}

async function measure(total, withTls) {
  const srv = fork(self, ['server', withTls ? 'tls' : 'plain'], { execArgv: ['--expose-gc'] });
  const { port } = await ask(srv, undefined, 'port');
  const first = Math.max(1, Math.floor(total / 10));
  const children = [];
  const open = async (count) => {
    while (count > 0) {
      const n = Math.min(perClientProcess, count);
      const c = fork(self, ['clients', String(port), String(n), withTls ? 'tls' : 'plain']);
      children.push(c);
      await ask(c, undefined, 'ready');
      count -= n;
    }
  };
  await open(first);
  const a = await ask(srv, 'rss', 'rss');
  await open(total - first);
  const b = await ask(srv, 'rss', 'rss');
  for (const c of children) c.send('stop');
  srv.send('stop');
  const per = ((b.rss - a.rss) * 1024) / (b.sessions - a.sessions);
  console.log(
    `${withTls ? 'tls  ' : 'plain'}: ${a.sessions} sessions ${a.rss} KiB, ${b.sessions} sessions ${b.rss} KiB: ${(per / 1024).toFixed(2)} KiB per idle session`,
  );
  return per;
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'server') {
  await server(rest[0] === 'tls');
} else if (mode === 'clients') {
  await clients(Number(rest[0]), Number(rest[1]), rest[2] === 'tls');
} else {
  const total = Number(mode ?? 5000);
  const which = rest[0] ?? 'both';
  const tlsPer = which === 'plain' ? 0 : await measure(total, true);
  const plainPer = which === 'tls' ? 0 : await measure(total, false);
  if (which === 'both') console.log(`TLS share: ${((tlsPer - plainPer) / 1024).toFixed(2)} KiB per idle session`);
}
