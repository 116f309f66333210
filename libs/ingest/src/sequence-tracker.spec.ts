import { decideSequence, fillGap, PodPosition } from './index';

describe('decideSequence', () => {
  const at = (seq: bigint | null, ts: number | null = 100) => ({ epoch: 1, seq, ts });

  it.each([
    ['first batch of an engine', at(null, null), 0n, 1, { kind: 'publish' }],
    ['first contact with a running engine', at(null, null), 7n, 1, { kind: 'gap', from: 0n, to: 6n }],
    ['next in order', at(4n), 5n, 101, { kind: 'publish' }],
    ['gap', at(4n), 9n, 101, { kind: 'gap', from: 5n, to: 8n }],
    ['duplicate of the last', at(4n), 4n, 100, { kind: 'duplicate' }],
    ['late duplicate from a replay', at(9n), 3n, 90, { kind: 'duplicate' }],
    ['sequence went back with a newer clock: restart', at(9n), 0n, 150, { kind: 'restart' }],
    ['restarted engine seen late (seq > 0, still ≤ last)', at(900n), 12n, 150, { kind: 'restart' }],
    ['unknown clock: never guess a restart', at(9n, null), 0n, 150, { kind: 'duplicate' }],
  ])('%s', (_name, position, seq, ts, expected) => {
    expect(decideSequence(position, seq, ts)).toEqual(expected);
  });
});

describe('PodPosition', () => {
  it('advances, starts new epochs, and skips past unrecoverable gaps', () => {
    const position = new PodPosition({ epoch: 0, seq: null, ts: null });
    position.published(0n, 1);
    expect(position.decide(1n, 2)).toEqual({ kind: 'publish' });
    position.published(1n, 2);
    expect(position.decide(0n, 5)).toEqual({ kind: 'restart' });
    position.newEpoch(1);
    expect(position.snapshot()).toEqual({ epoch: 1, seq: null, ts: null });
    expect(position.decide(3n, 6)).toEqual({ kind: 'gap', from: 0n, to: 2n });
    position.skipTo(2n, null);
    expect(position.decide(3n, 6)).toEqual({ kind: 'publish' });
    expect(() => position.newEpoch(1)).toThrow(RangeError);
  });
});

describe('fillGap', () => {
  const b = (...seqs: number[]) => seqs.map((s) => ({ seq: BigInt(s) }));
  it('takes the consecutive run that starts the gap', () => {
    expect(fillGap(3n, 5n, b(1, 2, 3, 4, 5, 6))).toEqual({ fill: b(3, 4, 5), complete: true });
    expect(fillGap(3n, 5n, b(3, 4))).toEqual({ fill: b(3, 4), complete: false });
    expect(fillGap(3n, 5n, b(4, 5))).toEqual({ fill: [], complete: false }); // the buffer lost seq 3
    expect(fillGap(3n, 5n, b(3, 5))).toEqual({ fill: b(3), complete: false });
    expect(fillGap(0n, 0n, [])).toEqual({ fill: [], complete: false });
  });
});
