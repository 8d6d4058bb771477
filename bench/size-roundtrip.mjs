// SIZE round trips against a running server: C logged-in connections, each
// sending N SIZE commands one after the other; prints SIZE/s and the server
// process's CPU (utime + stime from /proc) per SIZE. A file operation's cost
// end to end (the JS thread, the boundary, the file-system call), which
// ftpload's scenarios do not isolate.
//   node bench/size-roundtrip.mjs PORT SERVER_PID CONNECTIONS SIZES_EACH [NAME]
import { readFileSync } from 'node:fs';
import net from 'node:net';

const [port, pid, connections, each] = process.argv.slice(2, 6).map(Number);
const name = process.argv[6] ?? 'hello.bin';
if (![port, pid, connections, each].every((n) => Number.isInteger(n) && n > 0)) {
  console.error('usage: node bench/size-roundtrip.mjs PORT SERVER_PID CONNECTIONS SIZES_EACH [NAME]');
  process.exit(2);
}

function cpuTicks() {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

function client() {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buffered = '';
    let stage = 'greeting';
    let left = each;
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buffered += chunk;
      let end;
      while ((end = buffered.indexOf('\r\n')) >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (line[3] === '-') continue;
        if (stage === 'greeting') [stage] = ['user', socket.write('USER anonymous\r\n')];
        else if (stage === 'user') [stage] = ['pass', socket.write('PASS bench@\r\n')];
        else if (stage === 'pass') [stage] = ['size', socket.write(`SIZE ${name}\r\n`)];
        else if (stage === 'size') {
          if (!line.startsWith('213')) return reject(new Error(line));
          if (--left > 0) socket.write(`SIZE ${name}\r\n`);
          else {
            stage = 'done';
            socket.end('QUIT\r\n');
            resolve();
          }
        }
      }
    });
  });
}

const started = performance.now();
const ticks = cpuTicks();
await Promise.all(Array.from({ length: connections }, client));
const seconds = (performance.now() - started) / 1000;
const cpuSeconds = (cpuTicks() - ticks) / 100;
const ops = connections * each;
console.log(`${(ops / seconds).toFixed(0)} SIZE/s, server CPU ${((cpuSeconds * 1e6) / ops).toFixed(1)} µs per SIZE`);
