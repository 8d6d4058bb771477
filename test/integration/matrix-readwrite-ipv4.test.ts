// The shared download suite over IPv4 with --copy readwrite (see helpers/download-suite.ts).
import { downloadSuite } from './helpers/download-suite.js';

downloadSuite('readwrite', 4);
