/**
 * A fault-injecting proxy in front of moto, on loopback only. Rules match requests by method and
 * URL (path and query, e.g. `?partNumber=`, `?uploads`, `?uploadId=`) and inject, a given number of
 * times: an S3 error answer (503 SlowDown…), a connection reset after N bytes of the request or of
 * the response body, a stall (the request is held before it reaches moto, or moto's answer is held
 * after it did the work) for T ms or until the client gives up, a request that reaches moto only
 * after T ms whatever the client did meanwhile, a truncated body whose length
 * header says it is complete, a flipped byte in a request body, or rewritten response headers.
 * Requests that match no rule (or a rule used up) pass through unchanged.
 */
import type * as http from 'node:http';
import { forward, startProxy } from './proxy';

export type Fault =
  /** Answer at once with an S3 error; moto never sees the request. */
  | { kind: 'status'; status: number; code: string; message?: string }
  /** Read N bytes of the request body (or all of it, if shorter), then drop the connection. */
  | { kind: 'reset-request'; afterBytes: number }
  /** Relay moto's answer, but drop the connection after N bytes of its body. */
  | { kind: 'reset-response'; afterBytes: number }
  /** Hold the request before it reaches moto, for `ms` or (without `ms`) until the client gives up. */
  | { kind: 'stall-request'; ms?: number }
  /** Read the request, answer nothing, and pass it on to moto after `ms`, even if the client gave up meanwhile (S3 finishing a request whose answer was lost). */
  | { kind: 'delay-request'; ms: number }
  /** Let moto do the work, then hold its answer (after `afterBytes` of its body) for `ms` or until the client gives up. */
  | { kind: 'stall-response'; ms?: number; afterBytes?: number }
  /** Relay only the first N bytes of the answer's body, with a Content-Length that claims that is all. */
  | { kind: 'truncate'; afterBytes: number }
  /** Flip one byte of the request body; with `dropChecksums`, remove the S3 checksum headers too. */
  | { kind: 'corrupt-request'; atByte: number; dropChecksums?: boolean }
  /** Replace (or with undefined remove) headers of moto's answer. */
  | { kind: 'rewrite-headers'; headers: Record<string, string | undefined> };

export interface FaultRule {
  /** For the log and for counting. */
  name: string;
  method?: string;
  /** Tested against the path and query, e.g. /[?&]partNumber=/. */
  url?: RegExp;
  /** Only requests carrying this header. */
  header?: RegExp;
  /** Let this many matching requests pass before injecting (default 0). */
  skip?: number;
  /** How many times to inject (default 1; Infinity for always). */
  times?: number;
  fault: Fault;
}

/** Common matches for S3 requests as the AWS SDK v3 sends them (path-style). */
export const on = {
  part: { method: 'PUT', url: /[?&]partNumber=\d+/ },
  create: { method: 'POST', url: /[?&]uploads(?:[=&]|$)/ },
  complete: { method: 'POST', url: /[?&]uploadId=/ },
  /** A single-request upload of an archive (PutObject), not a part. */
  archivePut: { method: 'PUT', url: /\/archives\/[^?]*(?:\?(?!.*partNumber=).*)?$/ },
  manifestPut: { method: 'PUT', url: /\/catalog\/[^?]*(?:\?.*)?$/ },
  archiveGet: { method: 'GET', url: /\/archives\/[^?]*(?:\?.*)?$/ },
  manifestGet: { method: 'GET', url: /\/catalog\/[^?]*(?:\?.*)?$/ },
  archiveHead: { method: 'HEAD', url: /\/archives\/[^?]*(?:\?.*)?$/ },
  list: { method: 'GET', url: /[?&]list-type=2/ },
} as const;

export interface LogLine {
  method: string;
  url: string;
  /** The Range header, "" for none. */
  range: string;
  /** The rule that injected a fault into this request, if any. */
  fault?: string;
}

export interface FaultProxy {
  endpoint: string;
  log: LogLine[];
  add(...rules: FaultRule[]): void;
  clear(): void;
  /** How many times the named rule injected its fault. */
  fired(name: string): number;
  /** Rejects any request that carries S3 checksum headers, as some S3-compatible stores do; strips them from answers. */
  rejectChecksums: boolean;
  close(): Promise<void>;
}

interface Active extends FaultRule {
  seen: number;
  fired: number;
}

const checksumHeader = /^x-amz-(checksum-|sdk-checksum-algorithm|trailer)/;

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  let rules: Active[] = [];
  const counts = new Map<string, number>();
  const log: LogLine[] = [];
  const held = new Set<http.ServerResponse>();
  const state = { rejectChecksums: false };

  const pick = (req: http.IncomingMessage): Active | undefined => {
    const url = req.url ?? '';
    for (const r of rules) {
      if (r.method && r.method !== req.method) continue;
      if (r.url && !r.url.test(url)) continue;
      if (r.header && !Object.entries(req.headers).some(([k, v]) => r.header!.test(`${k}: ${String(v)}`))) continue;
      if (r.fired >= (r.times ?? 1)) continue;
      if (r.seen++ < (r.skip ?? 0)) continue;
      r.fired++;
      counts.set(r.name, (counts.get(r.name) ?? 0) + 1);
      return r;
    }
    return undefined;
  };

  const proxy = await startProxy((req, res) => {
    const line: LogLine = { method: req.method ?? '', url: req.url ?? '', range: String(req.headers.range ?? '') };
    log.push(line);
    if (state.rejectChecksums && Object.keys(req.headers).some((h) => checksumHeader.test(h))) {
      line.fault = 'checksum headers rejected';
      return sendError(req, res, 400, 'InvalidArgument', 'x-amz-checksum headers are not supported');
    }
    const rule = pick(req);
    if (rule) line.fault = rule.name;
    const f = rule?.fault;
    const strip = (up: http.IncomingMessage): http.IncomingHttpHeaders => {
      const headers = { ...up.headers };
      if (state.rejectChecksums) for (const h of Object.keys(headers)) if (checksumHeader.test(h)) delete headers[h];
      return headers;
    };
    const relay = (up: http.IncomingMessage): void => {
      res.writeHead(up.statusCode ?? 502, strip(up));
      up.pipe(res);
    };
    if (!f) return void forward(target, req, res, { onResponse: relay });
    switch (f.kind) {
      case 'status':
        return sendError(req, res, f.status, f.code, f.message ?? 'injected by the test proxy');
      case 'reset-request': {
        let got = 0;
        const cut = (): void => {
          req.socket.destroy();
        };
        req.on('data', (d: Buffer) => {
          got += d.byteLength;
          if (got >= f.afterBytes) cut();
        });
        req.on('end', cut);
        return;
      }
      case 'stall-request':
        req.resume();
        hold(res, f.ms, () => forward(target, req, res, { onResponse: relay }), held);
        return;
      case 'delay-request': {
        const chunks: Buffer[] = [];
        req.on('data', (d: Buffer) => chunks.push(d));
        req.on('end', () => {
          held.add(res);
          res.on('close', () => held.delete(res));
          const pass = (): unknown => forward(target, req, res, { body: Buffer.concat(chunks), onResponse: (up) => (res.destroyed ? up.resume() : relay(up)) });
          setTimeout(pass, f.ms).unref();
        });
        return;
      }
      case 'corrupt-request': {
        const chunks: Buffer[] = [];
        req.on('data', (d: Buffer) => chunks.push(d));
        req.on('end', () => {
          const body = Buffer.concat(chunks);
          if (body.byteLength > 0) body[Math.min(f.atByte, body.byteLength - 1)]! ^= 0x5a;
          if (f.dropChecksums) for (const h of Object.keys(req.headers)) if (checksumHeader.test(h)) delete req.headers[h];
          forward(target, req, res, { onResponse: relay, body });
        });
        return;
      }
      default:
        forward(target, req, res, {
          onResponse: (up) => {
            const headers = strip(up);
            if (f.kind === 'rewrite-headers') {
              for (const [k, v] of Object.entries(f.headers)) {
                if (v === undefined) delete headers[k];
                else headers[k] = v;
              }
              res.writeHead(up.statusCode ?? 502, headers);
              up.pipe(res);
            } else if (f.kind === 'truncate') {
              const length = Math.min(Number(headers['content-length'] ?? Infinity), f.afterBytes);
              res.writeHead(up.statusCode ?? 502, { ...headers, 'content-length': String(length) });
              limit(up, res, length, () => res.end());
            } else if (f.kind === 'reset-response') {
              res.writeHead(up.statusCode ?? 502, headers);
              limit(up, res, f.afterBytes, () => res.socket?.destroy());
            } else {
              // stall-response: the answer (or its first bytes) waits
              const after = f.afterBytes ?? 0;
              if (after === 0) {
                up.pause();
                hold(res, f.ms, () => relay(up), held);
              } else {
                res.writeHead(up.statusCode ?? 502, headers);
                limit(up, res, after, () => hold(res, f.ms, () => up.pipe(res), held), true);
              }
            }
          },
        });
    }
  });

  return {
    endpoint: proxy.endpoint,
    log,
    add: (...more) => {
      rules.push(...more.map((r) => ({ ...r, seen: 0, fired: 0 })));
    },
    clear: () => {
      rules = [];
    },
    fired: (name) => counts.get(name) ?? 0,
    get rejectChecksums() {
      return state.rejectChecksums;
    },
    set rejectChecksums(v: boolean) {
      state.rejectChecksums = v;
    },
    close: async () => {
      for (const res of held) res.destroy();
      await proxy.close();
    },
  };
}

function sendError(req: http.IncomingMessage, res: http.ServerResponse, status: number, code: string, message: string): void {
  req.resume();
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>proxy</RequestId></Error>`;
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** Runs `then` after `ms`, or never (until the client goes away) without `ms`. */
function hold(res: http.ServerResponse, ms: number | undefined, then: () => void, held: Set<http.ServerResponse>): void {
  held.add(res);
  let timer: NodeJS.Timeout | undefined;
  res.on('close', () => {
    held.delete(res);
    if (timer) clearTimeout(timer);
  });
  if (ms !== undefined) {
    timer = setTimeout(() => {
      if (!res.destroyed) then();
    }, ms);
  }
}

/**
 * Relays the first `n` bytes of `up`, then calls `done` (and stops relaying). With `keep`, the
 * rest of the answer stays paused in `up` for `done` to relay later.
 */
function limit(up: http.IncomingMessage, res: http.ServerResponse, n: number, done: () => void, keep = false): void {
  let sent = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    up.off('data', onData);
    if (keep) up.pause();
    else up.destroy();
    done();
  };
  const onData = (chunk: Buffer): void => {
    const part = chunk.subarray(0, n - sent);
    sent += part.byteLength;
    if (part.byteLength > 0) res.write(part);
    if (sent >= n) {
      finish();
      // Put the rest back only once nothing listens: in flowing mode unshift re-emits at once.
      if (keep && part.byteLength < chunk.byteLength) up.unshift(chunk.subarray(part.byteLength));
    }
  };
  if (n === 0) return finish();
  up.on('data', onData);
  up.on('end', finish);
}
