import { readFileSync } from 'node:fs';
import { Environment, JINJA_VALUE_FIELDS_PATCH, jinjaPatched } from './vendor';

describe('the jinja build as loaded', () => {
  it('carries the value-fields patch for the pinned version', () => {
    const source = readFileSync(require.resolve('@huggingface/jinja'), 'utf8');
    expect(source.split(JINJA_VALUE_FIELDS_PATCH.from)).toHaveLength(2);
    expect(jinjaPatched).toBe(true);
  });

  it('builds every kind of value with the own properties, order and values of the unpatched build', () => {
    const unpatched = (require('@huggingface/jinja') as { Environment: new () => { set(name: string, value: unknown): unknown } }).Environment;
    const patchedEnv = new Environment();
    const plainEnv = new unpatched();
    const samples: unknown[] = [1, 1.5, 'text', true, null, undefined, [1, 'a'], { a: 1 }, () => 1];
    samples.forEach((sample, i) => {
      const ours = patchedEnv.set(`v${i}`, sample) as Record<string, unknown>;
      const theirs = plainEnv.set(`v${i}`, sample) as Record<string, unknown>;
      expect(ours.constructor).not.toBe(theirs.constructor); // really two builds
      expect(Object.keys(ours)).toEqual(Object.keys(theirs));
      expect(ours['type']).toBe(theirs['type']);
    });
  });
});
