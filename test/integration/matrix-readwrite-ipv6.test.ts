// The shared download suite over IPv6 (::1) with --copy readwrite; skipped where the
// host has no IPv6 loopback (see helpers/download-suite.ts).
import { canListen } from './helpers/clients.js';
import { downloadSuite } from './helpers/download-suite.js';

downloadSuite('readwrite', 6, await canListen('::1'));
