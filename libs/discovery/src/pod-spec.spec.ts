import { endpointProblem, formatPodId, normalizePodSpecs, parsePodsFile, tcpEndpoint } from './pod-spec';

describe('normalizePodSpecs', () => {
  it('fills in the defaults: id <address>:8000, zmq tcp://<address>:5557, no replay', () => {
    const { pods, problems } = normalizePodSpecs([{ address: '10.0.0.1' }]);
    expect(problems).toEqual([]);
    expect(pods).toEqual([{ id: '10.0.0.1:8000', address: '10.0.0.1', httpPort: 8000, zmqEndpoint: 'tcp://10.0.0.1:5557', replayEndpoint: null }]);
    expect(Object.isFrozen(pods[0])).toBe(true);
  });

  it('keeps every given field', () => {
    const spec = { id: 'pod-a', address: 'vllm-0.vllm', httpPort: 8080, zmqEndpoint: 'tcp://vllm-0.vllm:6000', replayEndpoint: 'tcp://vllm-0.vllm:6001', model: 'Qwen/Qwen3-8B', name: 'rack 1' };
    expect(normalizePodSpecs([spec])).toEqual({ pods: [spec], problems: [] });
  });

  it('brackets an IPv6 address in endpoints but not in the id (the form vLLM topics carry)', () => {
    const { pods } = normalizePodSpecs([{ address: 'fd00::7' }]);
    expect(pods[0]).toMatchObject({ id: 'fd00::7:8000', zmqEndpoint: 'tcp://[fd00::7]:5557' });
    expect(formatPodId('fd00::7', 8000)).toBe('fd00::7:8000');
    expect(tcpEndpoint('10.0.0.1', 5558)).toBe('tcp://10.0.0.1:5558');
  });

  it('lists every problem with its place, and returns only the valid pods', () => {
    const { pods, problems } = normalizePodSpecs([
      { address: '10.0.0.1', httpPort: 70_000, zmqPort: 5557 },
      { httpPort: '8000', replayEndpoint: 'tcp://*:5558' },
      'just a string',
      { address: '10.0.0.4', zmqEndpoint: 'http://10.0.0.4:5557', model: '' },
      { address: '10.0.0.5' },
      { address: '10.0.0.5', name: 'again' },
      { address: '[fd00::1]', id: 'a@b' },
    ]);
    expect(pods.map((p) => p.id)).toEqual(['10.0.0.5:8000']);
    expect(problems).toEqual([
      'pods[0]: unknown key "zmqPort" (known: address, httpPort, id, zmqEndpoint, replayEndpoint, model, name)',
      'pods[0].httpPort: must be an integer 1-65535, got number 70000',
      'pods[1].address: required',
      'pods[1].httpPort: must be an integer 1-65535, got "8000"',
      'pods[1].replayEndpoint: must name the pod, not bind to * (the subscriber connects to it), got "tcp://*:5558"',
      'pods[2]: must be a mapping with at least "address", got "just a string"',
      'pods[3].zmqEndpoint: must be tcp://<host>:<port> (IPv6 in brackets) or ipc://<path>, got "http://10.0.0.4:5557"',
      'pods[3].model: must be a non-empty string, got ""',
      'pods[5].id: duplicate pod id "10.0.0.5:8000" (also pods[4])',
      'pods[6].address: must be a bare IP or host name (no brackets, spaces, "/" or "@"), got "[fd00::1]"',
      'pods[6].id: must not contain spaces or "@" (topic separator), got "a@b"',
    ]);
  });

  it('rejects a non-list', () => {
    expect(normalizePodSpecs({ address: 'x' }).problems).toEqual(['pods: must be a list, got a mapping']);
  });
});

describe('endpointProblem', () => {
  it.each(['tcp://10.0.0.1:5557', 'tcp://[fd00::1]:5557', 'tcp://vllm-0.vllm.ns.svc:1', 'ipc:///tmp/kv.sock'])('accepts %s', (endpoint) => {
    expect(endpointProblem(endpoint)).toBeUndefined();
  });

  it.each(['tcp://10.0.0.1', 'tcp://10.0.0.1:0', 'tcp://10.0.0.1:65536', 'tcp://fd00::1:5557', 'ipc://', 'udp://x:1', ' tcp://x:1'])('rejects %s', (endpoint) => {
    expect(endpointProblem(endpoint)).toEqual(expect.any(String));
  });
});

describe('parsePodsFile', () => {
  it('reads a list, a `pods:` mapping and JSON alike', () => {
    const expected = [{ id: '10.0.0.1:8000', address: '10.0.0.1', httpPort: 8000, zmqEndpoint: 'tcp://10.0.0.1:5557', replayEndpoint: 'tcp://10.0.0.1:5558' }];
    expect(parsePodsFile('- address: 10.0.0.1\n  replayEndpoint: tcp://10.0.0.1:5558\n')).toEqual({ pods: expected, problems: [] });
    expect(parsePodsFile('# fleet\npods:\n  - address: 10.0.0.1\n    replayEndpoint: tcp://10.0.0.1:5558\n')).toEqual({ pods: expected, problems: [] });
    expect(parsePodsFile('{"pods": [{"address": "10.0.0.1", "replayEndpoint": "tcp://10.0.0.1:5558"}]}')).toEqual({ pods: expected, problems: [] });
  });

  it('accepts an explicit empty set and `replayEndpoint: null`', () => {
    expect(parsePodsFile('pods: []\n')).toEqual({ pods: [], problems: [] });
    expect(parsePodsFile('[]')).toEqual({ pods: [], problems: [] });
    expect(parsePodsFile('- {address: a, replayEndpoint: null}').pods[0]?.replayEndpoint).toBeNull();
  });

  it('treats an empty file as a problem, not as "no pods" (a truncated write must not drop the fleet)', () => {
    expect(parsePodsFile('').problems).toEqual(['the file is empty; write "pods: []" for an empty set']);
    expect(parsePodsFile('# nothing yet\n').problems).toHaveLength(1);
  });

  it('reports YAML errors with their position', () => {
    const { problems } = parsePodsFile('pods:\n  - address: 10.0.0.1\n   httpPort: 8000\n');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^YAML: .*line 3, column \d+/);
    expect(parsePodsFile('pods: []\npods: []\n').problems[0]).toMatch(/^YAML: Map keys must be unique/);
  });

  it('reports unknown top-level keys and wrong shapes', () => {
    expect(parsePodsFile('pods: []\nextra: 1\n').problems).toEqual(['unknown top-level key "extra" (expected a list of pods, or "pods:")']);
    expect(parsePodsFile('servers: []\n').problems).toEqual(['unknown top-level key "servers" (expected a list of pods, or "pods:")', 'pods: required (a list, "[]" for none)']);
    expect(parsePodsFile('42').problems).toEqual(['expected a list of pods or a mapping with "pods", got number 42']);
  });

  it('survives an alias bomb with a problem instead of an exception', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 12; i += 1) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`);
    const { pods, problems } = parsePodsFile(lines.join('\n'));
    expect(pods).toEqual([]);
    expect(problems[0]).toMatch(/^YAML: /);
  });
});
