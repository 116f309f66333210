/**
 * `kvr sim` as a user starts it: a real process, the ready line, signals. Real: the CLI, HTTP,
 * ZMQ ports. Mocked: nothing.
 */
import { runCli, startApp, startSimFleet } from '@kvr/testing';

describe('kvr sim (process)', () => {
  it('starts a fleet on free ports, announces every pod with URLs, and stops on SIGTERM', async () => {
    const fleet = await startSimFleet({ pods: 3, args: ['--event-format', 'array'] });
    try {
      expect(fleet.pods).toHaveLength(3);
      for (const pod of fleet.pods) {
        expect(pod.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(pod.zmq).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
        expect(pod.replay).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
        expect(pod.id).toBe(pod.http.replace('http://', ''));
        expect((await fetch(`${pod.http}/health`)).status).toBe(200);
      }
      expect(new Set(fleet.pods.flatMap((p) => [p.http, p.zmq, p.replay])).size).toBe(9);
    } finally {
      expect(await fleet.stop()).toBe(0);
    }
  });

  it('protects /debug with the configured bearer token', async () => {
    const app = await startApp('sim', ['--port', '0', '--zmq-port', '0', '--replay-port=-1'], { env: { KVR_DEBUG_TOKEN: 's3cret' } });
    try {
      const [pod] = app.listen['pods'] as { http: string; replay: string | null }[];
      expect(pod!.replay).toBeNull();
      expect((await fetch(`${pod!.http}/debug/blocks`)).status).toBe(401);
      expect((await fetch(`${pod!.http}/debug/blocks`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
      expect(app.stderr()).not.toContain('s3cret');
    } finally {
      await app.stop();
    }
  });

  it('stops at start with every configuration problem listed', async () => {
    const result = await runCli('kvr', ['sim', '--pods', '0', '--event-format', 'xml', '--time-scale', 'fast']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/pods/);
    expect(result.stderr).toMatch(/--event-format/);
    expect(result.stderr).toMatch(/--time-scale/);
  });
});
