// ftp-srv as bench:compare starts it (bench/peers/table.ts):
//   node server.cjs ROOT PORT PASV_MIN PASV_MAX FTP_SRV_DIR BLACKLIST   (BLACKLIST: commands refused, comma-separated)
const path = require('path');
const [root, port, pmin, pmax, dir, blacklist] = process.argv.slice(2);
const FtpSrv = require(path.join(dir, 'node_modules', 'ftp-srv'));
const bunyan = require(path.join(dir, 'node_modules', 'bunyan'));
const log = bunyan.createLogger({ name: 'ftp-srv', level: 'fatal' });
const srv = new FtpSrv({
  url: 'ftp://127.0.0.1:' + port, pasv_url: '127.0.0.1', pasv_min: Number(pmin), pasv_max: Number(pmax),
  anonymous: true, greeting: 'ftp-srv bench', timeout: 0, blacklist: blacklist.split(','), log,
});
srv.on('login', (_data, resolve) => resolve({ root }));
srv.on('client-error', () => {});
srv.listen().catch((e) => { console.error(e); process.exit(1); });
