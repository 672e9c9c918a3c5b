/**
 * Proxies for restore tests, on the shared proxy core. The restore proxy makes restores take
 * time, as on AWS: for the first `pendingHeads` HEAD requests of each archive object whose restore
 * moto reports, it answers `x-amz-restore: ongoing-request="true"` instead (moto completes restores
 * at once). Likewise, until `release()`, listings (ListObjectsV2) that carry a RestoreStatus (from
 * moto_restore_status.py) show every one as in progress. The cutting proxy drops the connection in
 * the middle of the first archive GET.
 */
import { on, startFaultProxy } from './faultProxy';
import { forward, pathOf, relayEdited, startProxy } from './proxy';

export interface RestoreProxy {
  endpoint: string;
  /** HEAD requests seen per object key. */
  heads: Map<string, number>;
  /** ListObjectsV2 requests seen, and how many asked for RestoreStatus. */
  lists: { all: number; withRestoreStatus: number };
  /** From now on, each listing's XML goes through `edit` as well (undefined: no more). */
  editListings(edit: ((xml: string) => string) | undefined): void;
  /** Ends the pending period: from now on restores moto reports show as they are (done). */
  release(): void;
  /**
   * While on, multipart part uploads (from part `fromPart` on, default 1) get no answer (a
   * stalled network), so a test can cancel or interrupt mid-upload.
   */
  holdParts(on: boolean, fromPart?: number): void;
  close(): Promise<void>;
}

export async function startRestoreProxy(target: string, pendingHeads: number): Promise<RestoreProxy> {
  const heads = new Map<string, number>();
  const requested = new Set<string>();
  let limit = pendingHeads;
  let hold = false;
  let holdFrom = 1;
  const lists = { all: 0, withRestoreStatus: 0 };
  let editListing: ((xml: string) => string) | undefined;
  const proxy = await startProxy((req, res) => {
    const key = pathOf(req);
    const part = /[?&]partNumber=(\d+)/.exec(req.url ?? '');
    if (hold && req.method === 'PUT' && part && Number(part[1]) >= holdFrom) {
      req.resume(); // read the part, never answer: the client gives up when it is cancelled
      return;
    }
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
    if (req.method === 'GET' && /[?&]list-type=2/.test(req.url ?? '')) {
      lists.all++;
      if (/RestoreStatus/.test(String(req.headers['x-amz-optional-object-attributes'] ?? ''))) lists.withRestoreStatus++;
      const pendingList = limit > 0;
      const edit = editListing;
      forward(target, req, res, {
        onResponse: (up) =>
          relayEdited(up, res, (xml) => {
            const shown = pendingList ? xml.replace(/<RestoreStatus>[\s\S]*?<\/RestoreStatus>/g, '<RestoreStatus><IsRestoreInProgress>true</IsRestoreInProgress></RestoreStatus>') : xml;
            return edit ? edit(shown) : shown;
          }),
      });
      return;
    }
    forward(target, req, res, {
      onResponse: (up) => {
        const headers = { ...up.headers };
        if (pending && headers['x-amz-restore']) headers['x-amz-restore'] = 'ongoing-request="true"';
        res.writeHead(up.statusCode ?? 502, headers);
        up.pipe(res);
      },
    });
  });
  return {
    endpoint: proxy.endpoint,
    heads,
    lists,
    editListings: (edit) => {
      editListing = edit;
    },
    release: () => {
      limit = 0;
    },
    holdParts: (on, fromPart = 1) => {
      hold = on;
      holdFrom = fromPart;
    },
    close: proxy.close,
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
  const proxy = await startFaultProxy(target);
  proxy.add({ name: 'cut', ...on.archiveGet, fault: { kind: 'reset-response', afterBytes: cutAfter } });
  return {
    endpoint: proxy.endpoint,
    get ranges() {
      return proxy.log.filter((l) => l.method === 'GET' && l.url.includes('/archives/')).map((l) => l.range);
    },
    close: () => proxy.close(),
  };
}
