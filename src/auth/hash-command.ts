// `muxftpd --hash-password`: reads a password (the first line of stdin) and
// prints its hash for a line of the --users file.
import { ConfigError } from '../errors.js';
import { hashPassword } from './password.js';

export const hashPasswordFlag = '--hash-password';

export async function printPasswordHash(input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<void> {
  let text = '';
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text.includes('\n')) break;
  }
  const password = text.split(/\r?\n/)[0] ?? '';
  if (password === '') throw new ConfigError('MUXFTPD_ERR_NO_PASSWORD', `${hashPasswordFlag} needs a password on stdin`);
  output.write(`${await hashPassword(password)}\n`);
}
