import { Doorkeeper, textHash } from './doorkeeper';

describe('Doorkeeper', () => {
  it('admits a text on its second offer, not its first', () => {
    const door = new Doorkeeper(100);
    expect(door.offer('system prompt chunk')).toBe(false);
    expect(door.offer('a question')).toBe(false);
    expect(door.offer('system prompt chunk')).toBe(true);
    expect(door.offer('system prompt chunk')).toBe(true);
    expect(door.size).toBe(2);
  });

  it('remembers a text for one to two generations of first sightings, then forgets it', () => {
    const door = new Doorkeeper(2);
    door.offer('a');
    door.offer('b'); // young = {a, b}: full
    door.offer('c'); // young → old = {a, b}; young = {c}
    expect(door.offer('a')).toBe(true); // still in the old generation
    door.offer('d'); // young = {c, d}: full
    door.offer('e'); // old = {c, d}: a and b are forgotten
    expect(door.offer('b')).toBe(false);
    expect(door.size).toBeLessThanOrEqual(4);
  });

  it('clear() forgets everything', () => {
    const door = new Doorkeeper(10);
    door.offer('x');
    door.clear();
    expect(door.offer('x')).toBe(false);
  });

  it('refuses a capacity below one', () => {
    expect(() => new Doorkeeper(0)).toThrow(RangeError);
  });
});

describe('textHash', () => {
  it('is a deterministic 30-bit value that tells texts apart', () => {
    const texts = Array.from({ length: 2_000 }, (_, i) => `chunk ${i} of some prompt`);
    const hashes = texts.map(textHash);
    for (const h of hashes) expect(Number.isInteger(h) && h >= 0 && h < 2 ** 30).toBe(true);
    expect(texts.map(textHash)).toEqual(hashes);
    expect(new Set(hashes).size).toBe(texts.length);
    expect(textHash('')).toBe(textHash(''));
    expect(textHash('ab')).not.toBe(textHash('ba'));
  });
});
