import { headers as natsHeaders, MsgHdrsImpl, type MsgHdrs } from '@nats-io/transport-node';
import { encodedHeaders, fromHeaders, toHeaders } from './headers';

const COLLECTOR_HEADERS = {
  'Kvr-Pod': '10.0.0.7:8000',
  'Kvr-Model': 'Qwen/Qwen3-32B-ünïcode-模型',
  'Kvr-Epoch': '3',
  'Kvr-Engine-Seq': '18446744073709551615',
  'Kvr-Kind': 'batch',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  'Kvr-Note': '  padded value  ',
  'Nats-Msg-Id': '10.0.0.7:8000:3:42',
};

/** The header block nats-core puts on the wire (`encode()` is on its implementation, not the public type). */
const wire = (headers: MsgHdrs): string => Buffer.from((headers as unknown as { encode(): Uint8Array }).encode()).toString('latin1');

describe('encodedHeaders', () => {
  it('encodes exactly what nats.js encodes for the same entries (order, trimming, case kept)', () => {
    expect(wire(encodedHeaders(COLLECTOR_HEADERS))).toBe(wire(toHeaders(COLLECTOR_HEADERS)));
    expect(wire(encodedHeaders({}))).toBe(wire(natsHeaders()));
  });

  it('decodes back to the same values with nats.js', () => {
    const decoded = fromHeaders(MsgHdrsImpl.decode(Buffer.from(wire(encodedHeaders(COLLECTOR_HEADERS)), 'latin1')));
    expect(decoded).toEqual({ ...COLLECTOR_HEADERS, 'Kvr-Note': 'padded value' });
  });

  it('refuses what nats.js refuses: a line break in a value, a colon or space in a name', () => {
    expect(() => encodedHeaders({ 'Kvr-Model': 'evil\r\nKvr-Pod: other' })).toThrow(/cannot contain/);
    expect(() => toHeaders({ 'Kvr-Model': 'evil\r\nKvr-Pod: other' })).toThrow(/cannot contain/);
    for (const name of ['Kvr:Pod', 'Kvr Pod', '']) expect(() => encodedHeaders({ [name]: 'x' })).toThrow();
    expect(() => toHeaders({ 'Kvr:Pod': 'x' })).toThrow();
  });

  it('offers encode() only: any other use is an error rather than an empty header set', () => {
    const headers = encodedHeaders(COLLECTOR_HEADERS);
    expect(() => headers.get('Kvr-Pod')).toThrow(/only support encode/);
  });
});
