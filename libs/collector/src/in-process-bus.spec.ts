import { HEADER_ENGINE_SEQ, HEADER_ENGINE_TS, HEADER_EPOCH, HEADER_KIND } from '@kvr/contracts';
import { InProcessBus, type BusMessage } from './in-process-bus';
import type { IngestMessage } from './sink';

function message(subject: string, msgId: string, seq: number, extra: Partial<IngestMessage> = {}): IngestMessage {
  return {
    subject,
    msgId,
    data: Buffer.from(`payload ${msgId}`),
    headers: { [HEADER_KIND]: 'batch', [HEADER_EPOCH]: '2', [HEADER_ENGINE_SEQ]: String(seq), [HEADER_ENGINE_TS]: '1700000000.5' },
    ...extra,
  };
}

describe('InProcessBus', () => {
  it('delivers every message once, in offer order, one at a time', async () => {
    const bus = new InProcessBus();
    const seen: string[] = [];
    let inside = 0;
    let overlapped = false;
    bus.consume(async (m: BusMessage) => {
      inside++;
      if (inside > 1) overlapped = true;
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(`${m.subject}#${m.seq}`);
      inside--;
    });
    for (let i = 0; i < 5; i++) expect(bus.offer(message(i % 2 ? 'a' : 'b', `id-${i}`, i))).toBe(true);
    await bus.drained();
    expect(seen).toEqual(['b#1', 'a#2', 'b#3', 'a#4', 'b#5']);
    expect(overlapped).toBe(false);
    expect(bus.pending).toBe(0);
    expect(bus.bufferedBytes).toBe(0);
  });

  it('holds messages offered before the consumer exists and delivers them when it comes', async () => {
    const bus = new InProcessBus();
    bus.offer(message('s', 'early', 1));
    expect(bus.pending).toBe(1);
    const seen: number[] = [];
    bus.consume((m) => void seen.push(m.seq));
    await bus.drained();
    expect(seen).toEqual([1]);
  });

  it('acknowledges a repeated message id as a duplicate without delivering it, until the window passes', async () => {
    let now = 1_000;
    const bus = new InProcessBus({ duplicateWindowMs: 100, now: () => now });
    const acks: boolean[] = [];
    const seen: number[] = [];
    bus.consume((m) => void seen.push(m.seq));
    bus.offer(message('s', 'same', 1, { onAck: (a) => acks.push(a.duplicate) }));
    bus.offer(message('s', 'same', 1, { onAck: (a) => acks.push(a.duplicate) }));
    now += 101;
    bus.offer(message('s', 'same', 1, { onAck: (a) => acks.push(a.duplicate) }));
    await bus.drained();
    expect(acks).toEqual([false, true, false]);
    expect(seen).toEqual([1, 2]);
  });

  it('refuses unforced offers past the byte bound and takes forced ones', () => {
    const bus = new InProcessBus({ maxBufferBytes: 300 });
    expect(bus.offer(message('s', 'a', 1, { data: Buffer.alloc(150) }))).toBe(true);
    expect(bus.fill).toBeGreaterThan(0.5);
    expect(bus.offer(message('s', 'b', 2, { data: Buffer.alloc(150) }))).toBe(false);
    expect(bus.offer(message('s', 'c', 3, { data: Buffer.alloc(150) }), { force: true })).toBe(true);
    expect(bus.fill).toBeGreaterThan(1);
    expect(bus.lastSeq).toBe(2);
  });

  it('answers the last position stored on a subject, as the stream would', async () => {
    const bus = new InProcessBus();
    expect(await bus.lastStored('s')).toBeNull();
    bus.offer(message('s', 'a', 7));
    bus.offer(message('t', 'b', 1));
    expect(await bus.lastStored('s')).toEqual({ kind: 'batch', epoch: 2, seq: 7n, ts: 1700000000.5, streamSeq: 1 });
    bus.offer(message('s', 'c', 0, { headers: { [HEADER_KIND]: 'reset', [HEADER_EPOCH]: '3', [HEADER_ENGINE_SEQ]: '', [HEADER_ENGINE_TS]: '' } }));
    expect(await bus.lastStored('s')).toEqual({ kind: 'reset', epoch: 3, seq: null, ts: null, streamSeq: 3 });
  });

  it('moves an epoch once per restart however many times it is reported', async () => {
    const bus = new InProcessBus();
    expect(await bus.currentEpoch('p')).toBe(0);
    expect(await bus.bumpEpoch('p', 0)).toBe(1);
    expect(await bus.bumpEpoch('p', 0)).toBe(1);
    expect(await bus.bumpEpoch('p', 1)).toBe(2);
    expect(await bus.currentEpoch('p')).toBe(2);
  });

  it('keeps delivering after the consumer throws, and reports the error', async () => {
    const errors: number[] = [];
    const bus = new InProcessBus({ onConsumerError: (_err, m) => errors.push(m.seq) });
    const seen: number[] = [];
    bus.consume((m) => {
      if (m.seq === 1) throw new Error('boom');
      seen.push(m.seq);
    });
    bus.offer(message('s', 'a', 1));
    bus.offer(message('s', 'b', 2));
    await bus.drained();
    expect(errors).toEqual([1]);
    expect(seen).toEqual([2]);
  });

  it('refuses offers once closed', () => {
    const bus = new InProcessBus();
    bus.close();
    expect(bus.offer(message('s', 'a', 1))).toBe(false);
  });
});
