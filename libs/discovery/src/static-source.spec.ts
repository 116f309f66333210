import { DiscoveryConfigError } from './errors';
import { staticPodSource } from './static-source';
import { recordPodChanges } from './testing';

describe('staticPodSource', () => {
  it('emits every pod as added before start() resolves, then never changes', async () => {
    const source = staticPodSource([{ address: '10.0.0.1' }, { address: '10.0.0.2', zmqEndpoint: 'tcp://10.0.0.2:6000', model: 'm' }]);
    expect(source.kind).toBe('static');
    expect(source.current()).toEqual([]);
    const recorder = recordPodChanges();
    await source.start(recorder.onChange);
    expect(recorder.summary()).toEqual(['+10.0.0.1:8000', '+10.0.0.2:8000']);
    expect(source.current().map((p) => p.zmqEndpoint)).toEqual(['tcp://10.0.0.1:5557', 'tcp://10.0.0.2:6000']);
    expect(source.stats()).toMatchObject({ pods: 2, reloads: 0 });
    await expect(source.start(recorder.onChange)).rejects.toThrow('start() called twice');
    await source.stop();
    await source.stop();
    expect(recorder.changes).toHaveLength(2);
    expect(source.current()).toHaveLength(2);
  });

  it('throws at construction, listing every invalid field', () => {
    let error: unknown;
    try {
      staticPodSource([{ address: '' }, { address: '10.0.0.1', httpPort: 0 }]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DiscoveryConfigError);
    expect((error as DiscoveryConfigError).message).toBe(
      'invalid static pod list:\n  - pods[0].address: must be a non-empty string, got ""\n  - pods[1].httpPort: must be an integer 1-65535, got number 0',
    );
  });

  it('accepts an empty list', async () => {
    const source = staticPodSource([]);
    const recorder = recordPodChanges();
    await source.start(recorder.onChange);
    expect(recorder.changes).toEqual([]);
    await source.stop();
  });
});
