import { createServer } from 'node:net';

/**
 * Asks the kernel for a free TCP port on `host`. The port is released before it is returned, so
 * callers must cope with losing a race for it (the server harnesses retry on a bind failure).
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('could not read the port of a listening socket'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
