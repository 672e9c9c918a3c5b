/**
 * The small core of the test suite's loopback proxies in front of moto: a server on 127.0.0.1 that
 * hands each request to a handler, and a forwarder that relays it upstream unchanged.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Proxy {
  endpoint: string;
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export async function startProxy(handler: Handler): Promise<Proxy> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Sends the request upstream and calls `onResponse` with the upstream answer (default: relay it
 * as is). The request body is piped unless `body` is given. A failure upstream drops the client.
 */
export function forward(
  target: string,
  req: http.IncomingMessage,
  res: http.ServerResponse,
  options: { onResponse?: (up: http.IncomingMessage) => void; body?: Buffer } = {},
): http.ClientRequest {
  const upstream = new URL(target);
  const headers = { ...req.headers };
  delete headers.expect; // the proxy already answered "100 Continue"; moto must not wait for it
  if (options.body) headers['content-length'] = String(options.body.byteLength);
  const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (up) => {
    if (options.onResponse) options.onResponse(up);
    else {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    }
  });
  out.on('error', () => res.destroy());
  res.on('close', () => {
    if (!res.writableFinished) out.destroy();
  });
  if (options.body) out.end(options.body);
  else req.pipe(out);
  return out;
}

/** The object key of a path-style request ("/bucket/key?query" → "bucket/key"), decoded. */
export function pathOf(req: http.IncomingMessage): string {
  return decodeURIComponent((req.url ?? '').split('?')[0] ?? '');
}

/** Relays an upstream answer with its body (read whole, as text) rewritten by `edit`; Content-Length follows. */
export function relayEdited(up: http.IncomingMessage, res: http.ServerResponse, edit: (body: string) => string): void {
  const chunks: Buffer[] = [];
  up.on('data', (c: Buffer) => chunks.push(c));
  up.on('error', () => res.destroy());
  up.on('end', () => {
    const body = Buffer.from(edit(Buffer.concat(chunks).toString('utf8')), 'utf8');
    const headers = { ...up.headers, 'content-length': String(body.byteLength) };
    delete headers['transfer-encoding'];
    res.writeHead(up.statusCode ?? 502, headers);
    res.end(body);
  });
}
