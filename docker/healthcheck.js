#!/usr/bin/env node
// The images' HEALTHCHECK: `node docker/healthcheck.js <app>` asks the app's own /health on the
// address the app listens on and exits 0 on a 2xx answer, 1 otherwise. Plain node:http, because
// slim images have no curl or wget.
//
// The address is found the way the app finds it: defaults (docs/configuration.md) < the YAML file
// named by KVR_CONFIG < KVR_* variables. A wildcard listen host (0.0.0.0, ::) is probed on
// loopback. Command-line flags are not seen here, so images are configured by environment.
const http = require('node:http');
const fs = require('node:fs');

/**
 * Where each app answers /health: the probe server of the apps without an HTTP API of their own,
 * the API port of the gateway and of a simulated pod (pod 0 of a fleet). `hostKey`/`portKey` are
 * the config fields (YAML keys), `hostVar`/`portVar` their KVR_* variables.
 */
const PROBES = {
  collector: { hostKey: 'probeHost', hostVar: 'KVR_PROBE_HOST', portKey: 'probePort', portVar: 'KVR_PROBE_PORT', defaultPort: 8091 },
  gateway: { hostKey: 'host', hostVar: 'KVR_HOST', portKey: 'port', portVar: 'KVR_PORT', defaultPort: 8080 },
  indexer: { hostKey: 'probeHost', hostVar: 'KVR_PROBE_HOST', portKey: 'probePort', portVar: 'KVR_PROBE_PORT', defaultPort: 8092 },
  'load-scorer': { hostKey: 'probeHost', hostVar: 'KVR_PROBE_HOST', portKey: 'probePort', portVar: 'KVR_PROBE_PORT', defaultPort: 8093 },
  sim: { hostKey: 'host', hostVar: 'KVR_HOST', portKey: 'port', portVar: 'KVR_PORT', defaultPort: 8000 },
  tokenizer: { hostKey: 'probeHost', hostVar: 'KVR_PROBE_HOST', portKey: 'probePort', portVar: 'KVR_PROBE_PORT', defaultPort: 8082 },
};

/** Every app's listen host defaults to loopback. */
const DEFAULT_HOST = '127.0.0.1';
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);
/** Below Docker's HEALTHCHECK --timeout, so that a hung app is reported by this script, not killed. */
const TIMEOUT_MS = 3000;

function fromConfigFile(file) {
  if (!file) return {};
  // yaml is a production dependency of the image; loaded only when a config file is in use.
  const parsed = require('yaml').parse(fs.readFileSync(file, 'utf8'));
  return parsed !== null && typeof parsed === 'object' ? parsed : {};
}

/** The address to probe for `app` under `env`: `{host, port, path}`. Throws for an unknown app. */
function probeTarget(app, env = process.env) {
  const probe = PROBES[app];
  if (!probe) throw new Error(`no health probe for "${app}" (known: ${Object.keys(PROBES).join(', ')})`);
  const file = fromConfigFile(env.KVR_CONFIG);
  const host = String(env[probe.hostVar] ?? file[probe.hostKey] ?? DEFAULT_HOST).trim();
  const port = Number(env[probe.portVar] ?? file[probe.portKey] ?? probe.defaultPort);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`${probe.portVar} must be a fixed port for the health probe, got ${port}`);
  return { host: WILDCARD_HOSTS.has(host) ? DEFAULT_HOST : host.replace(/^\[(.*)\]$/, '$1'), port, path: '/health' };
}

function check(target, timeoutMs = TIMEOUT_MS) {
  return new Promise((resolve) => {
    const req = http.get({ host: target.host, port: target.port, path: target.path, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300 ? '' : `answered ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve(err.message));
  });
}

module.exports = { PROBES, probeTarget };

if (require.main === module) {
  let target;
  try {
    target = probeTarget(process.argv[2] ?? '');
  } catch (err) {
    process.stderr.write(`healthcheck: ${err.message}\n`);
    process.exit(1);
  }
  check(target).then((problem) => {
    if (problem) process.stderr.write(`healthcheck: http://${target.host}:${target.port}${target.path} ${problem}\n`);
    process.exit(problem ? 1 : 0);
  });
}
