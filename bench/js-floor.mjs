// The floor of the JS thread's cost per operation (issue 22): the real engine
// and its typed wrapper (src/engine/engine.ts) driven by a decider that does
// the least any decider can: canned replies chosen by a line's first bytes,
// no parsing, no session state, no accounts, no limits, no metrics, no logs.
// Whatever it costs the JS thread per operation is the price of the boundary
// itself (the wake-up, the N-API call, decoding the batch, encoding the
// actions, V8's own work), which no command logic can go under.
//
//   npm run build && node bench/js-floor.mjs --port 2691 --root DIR --threads 1 [other server flags]
//
// It answers what ftpload's login, small and persistent scenarios send
// (USER, PASS, TYPE, EPSV, PASV, RETR, QUIT; anything else 502). Never a
// server to serve anyone: it checks no password and no path.
import { engineConfig } from '../dist/config/engine-config.js';
import { loadConfig, parseFlags } from '../dist/config/load.js';
import { resolveConfig } from '../dist/config/resolve.js';
import { Engine } from '../dist/engine/engine.js';

const greeting = '220 floor\r\n';
const canned = {
  USER: '331 ok\r\n',
  PASS: '230 ok\r\n',
  TYPE: '200 ok\r\n',
  NOOP: '200 ok\r\n',
};
const retrOptions = { preamble: '150 ok\r\n', epilogue: '226 ok\r\n' };
const noReply = () => {};

async function main() {
  const config = await resolveConfig(await loadConfig({ flags: parseFlags(process.argv.slice(2)).flags }));
  let engine;
  let pasvTemplate = '';
  const verbOf = (line) => line.toString('latin1', 0, Math.min(4, line.length)).toUpperCase();
  /** @type {import('../dist/engine/engine.js').EngineHandler} */
  const handler = {
    onOpen: (sid) => engine?.reply(sid, greeting),
    onLine: (sid, line) => {
      const e = engine;
      if (e === undefined) return;
      const verb = verbOf(line);
      const text = canned[verb];
      if (text !== undefined) e.reply(sid, text);
      else if (verb === 'EPSV') e.listenPassive(sid, { template: '229 ok (|||%P|)\r\n', failure: '425 no\r\n' }, noReply);
      else if (verb === 'PASV') e.listenPassive(sid, { template: pasvTemplate, failure: '425 no\r\n' }, noReply);
      else if (verb === 'RETR') void e.sendFile(sid, line.toString('latin1', 5), 0, retrOptions);
      else if (verb === 'QUIT') {
        e.reply(sid, '221 bye\r\n');
        e.close(sid);
      } else e.reply(sid, '502 no\r\n');
    },
    onDataFailed: noReply,
    onDataConnected: noReply,
    onDataRefused: noReply,
    onPassiveLate: noReply,
    onClosed: noReply,
    onInputEnded: (sid) => engine?.close(sid),
    onLoopFailed: (loop, error) => {
      console.error(`js-floor: ${loop} failed (errno ${-error})`);
      process.exit(1);
    },
    onTlsReady: noReply,
    onTlsFailed: noReply,
    onControlCleared: noReply,
    onError: (e) => console.error('js-floor:', e),
  };
  engine = new Engine(engineConfig(config), handler);
  const { address, port } = engine.address();
  // %H is the port's "p1,p2" (src/protocol/address.ts); an IPv4 listener is assumed.
  pasvTemplate = `227 ok (${address.replaceAll('.', ',')},%H)\r\n`;
  console.log(`js-floor listening on ${address}:${port}`);
  const stop = () => void engine?.stop().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((e) => {
  console.error('js-floor:', e instanceof Error ? e.message : e);
  process.exit(2);
});
