// What the addon exports from native/engine/protocol.h and engine.h against
// what src/engine/native.ts declares: TypeScript takes the values from the
// addon (a name it uses that the addon lacks fails at load); this fails on a
// name the addon has that TypeScript does not declare, and on an engine
// config field either side lacks.
import { describe, expect, it } from 'vitest';
import { engineConfig } from '../../src/config/engine-config.js';
import { defaultConfig } from '../../src/config/settings.js';
import { enumNames, loadBinding } from '../../src/engine/native.js';

describe('native constants', () => {
  const { constants } = loadBinding();

  it.each(Object.entries(enumNames))('%s: the same names on both sides', (group, names) => {
    const exported = constants[group as keyof typeof enumNames];
    expect(Object.keys(exported).sort()).toEqual([...names].sort());
    // Distinct values: a duplicate would make two names indistinguishable on the wire.
    expect(new Set(Object.values(exported)).size).toBe(names.length);
  });

  it('the engine config has the fields native/engine/engine.h declares, each of its kind', () => {
    const config = engineConfig(defaultConfig());
    expect(Object.keys(config).sort()).toEqual(Object.keys(constants.engineConfig).sort());
    for (const [name, kind] of Object.entries(constants.engineConfig)) {
      expect(typeof config[name as keyof typeof config], name).toBe(kind);
    }
  });

  it('the temporaries of atomic uploads have a hidden name, in the directory of their target', () => {
    expect(constants.uploadTempPrefix).toMatch(/^\.[^/\0]+\.$/);
  });

  it('every wire field fits inside its record header, without overlap', () => {
    const width = { u8: 1, u16: 2, u32: 4, i32: 4, u64: 8, f64: 8 } as const;
    for (const layout of [constants.wire.event, constants.wire.action, constants.wire.stat]) {
      const used = new Array<boolean>(layout.header).fill(false);
      for (const { offset, type } of Object.values(layout.fields)) {
        for (let i = offset; i < offset + width[type]; i++) {
          expect(used[i], `byte ${i}`).toBe(false);
          used[i] = true;
        }
        expect(offset + width[type]).toBeLessThanOrEqual(layout.header);
      }
    }
  });
});
