// The shared download suite against a server on '::' (the CLI's default:
// every interface, IPv4 and IPv6), with IPv4 clients, which the server sees
// as IPv4-mapped IPv6 addresses: PASV must still announce 127.0.0.1 and PORT
// must still accept the client's own address. Skipped without IPv6.
import { canListen } from './helpers/clients.js';
import { downloadSuite } from './helpers/download-suite.js';

downloadSuite('sendfile', 4, await canListen('::'), '::');
