// The shared download suite over IPv4 with --copy sendfile (see helpers/download-suite.ts).
import { downloadSuite } from './helpers/download-suite.js';

downloadSuite('sendfile', 4);
