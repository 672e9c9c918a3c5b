/**
 * A loopback proxy in front of moto that makes restores take time, as on AWS: for the first
 * `pendingHeads` HEAD requests of each archive object whose restore moto reports, it answers
 * `x-amz-restore: ongoing-request="true"` instead (moto completes restores at once).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RestoreProxy {
  endpoint: string;
  /** HEAD requests seen per object key. */
  heads: Map<string, number>;
  /** Ends the pending period: from now on restores moto reports show as they are (done). */
  release(): void;
  close(): Promise<void>;
}

export async function startRestoreProxy(target: string, pendingHeads: number): Promise<RestoreProxy> {
  const upstream = new URL(target);
  const heads = new Map<string, number>();
  const requested = new Set<string>();
  let limit = pendingHeads;
  const server = http.createServer((req, res) => {
    const key = decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
    // While "pending", a second restore request gets AWS's 409 RestoreAlreadyInProgress.
    const restoreRequest = req.method === 'POST' && /[?&]restore/.test(req.url ?? '');
    if (restoreRequest && requested.has(key) && (heads.get(key) ?? 0) < limit) {
      req.resume();
      res.writeHead(409, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>RestoreAlreadyInProgress</Code><Message>Object restore is already in progress</Message></Error>');
      return;
    }
    if (restoreRequest) requested.add(key);
    let pending = false;
    if (req.method === 'HEAD' && key.includes('/archives/')) {
      const n = (heads.get(key) ?? 0) + 1;
      heads.set(key, n);
      pending = n <= limit;
    }
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        const headers = { ...up.headers };
        if (pending && headers['x-amz-restore']) headers['x-amz-restore'] = 'ongoing-request="true"';
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    heads,
    release: () => {
      limit = 0;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface CuttingProxy {
  endpoint: string;
  /** Range headers of the archive GETs seen, in order ("" for none). */
  ranges: string[];
  close(): Promise<void>;
}

/** A loopback proxy that drops the connection after `cutAfter` body bytes of the first archive GET. */
export async function startCuttingProxy(target: string, cutAfter: number): Promise<CuttingProxy> {
  const upstream = new URL(target);
  const ranges: string[] = [];
  let cut = false;
  const server = http.createServer((req, res) => {
    const archiveGet = req.method === 'GET' && (req.url ?? '').includes('/archives/');
    if (archiveGet) ranges.push(String(req.headers.range ?? ''));
    const cutThis = archiveGet && !cut;
    if (cutThis) cut = true;
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (!cutThis) return void up.pipe(res);
      let sent = 0;
      up.on('data', (chunk: Buffer) => {
        if (sent >= cutAfter) return;
        const part = chunk.subarray(0, cutAfter - sent);
        sent += part.length;
        res.write(part);
        if (sent >= cutAfter) {
          up.destroy();
          res.socket?.destroy();
        }
      });
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    ranges,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
