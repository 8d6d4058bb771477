import { describe, expect, it } from 'vitest';
import { listTarget } from '../../src/commands/handlers/listing.js';
import { dateString, listingBody, longLine, modeString } from '../../src/vfs/listing.js';

const now = new Date(Date.UTC(2024, 5, 15, 12, 0, 0));

describe('listing format', () => {
  it('renders modes like ls', () => {
    expect(modeString(0o100644)).toBe('-rw-r--r--');
    expect(modeString(0o040755)).toBe('drwxr-xr-x');
    expect(modeString(0o120777)).toBe('lrwxrwxrwx');
    expect(modeString(0o104755)).toBe('-rwsr-xr-x');
    expect(modeString(0o041777)).toBe('drwxrwxrwt');
    expect(modeString(0o102644)).toBe('-rw-r-Sr--');
  });

  it('shows the time for recent files and the year for old or future ones', () => {
    expect(dateString(new Date(Date.UTC(2024, 4, 3, 9, 5)), now)).toBe('May  3 09:05');
    expect(dateString(new Date(Date.UTC(2022, 0, 20)), now)).toBe('Jan 20  2022');
    expect(dateString(new Date(Date.UTC(2025, 0, 20)), now)).toBe('Jan 20  2025');
  });

  it('renders one ls -l line', () => {
    const line = longLine(
      { name: 'a file.bin', stats: { mode: 0o100644, nlink: 1, size: 65536, mtime: new Date(Date.UTC(2024, 5, 1, 8, 30)) } },
      now,
    );
    expect(line).toBe('-rw-r--r--   1 ftp      ftp             65536 Jun  1 08:30 a file.bin');
  });

  it('ends every line with CRLF', () => {
    expect(listingBody(['a', 'b']).toString()).toBe('a\r\nb\r\n');
    expect(listingBody([]).length).toBe(0);
    // A name with a line break stays on its line, escaped as replies escape it.
    expect(listingBody(['a\r\nb', 'c\nd', 'e\rf']).toString('latin1')).toBe('a\r\0\0b\r\nc\0d\r\ne\r\0f\r\n');
  });

  it('skips ls options before the path', () => {
    expect(listTarget('-la')).toBe('');
    expect(listTarget('-l -a dir')).toBe('dir');
    expect(listTarget('-al /x y')).toBe('/x y');
    expect(listTarget('dir')).toBe('dir');
  });
});
