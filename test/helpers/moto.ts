/** A real S3 server for tests: moto on a free loopback port, stopped when the test file ends. */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import * as path from 'node:path';
import { after, before } from 'node:test';
import { startFaultProxy, type FaultProxy } from './faultProxy';
import { tempDir } from './tree';
import { S3Client, CreateBucketCommand, ListMultipartUploadsCommand, ListObjectsV2Command, RestoreObjectCommand } from '@aws-sdk/client-s3';

export interface Moto {
  endpoint: string;
  client: S3Client;
  createBucket(name: string): Promise<void>;
  /** All object keys in a bucket. */
  keys(bucket: string): Promise<string[]>;
  /** Open multipart uploads in a bucket (orphans if a job has ended). */
  openUploads(bucket: string): Promise<string[]>;
  restore(bucket: string, key: string): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Starts moto. With `iam`, it checks every request's signature and the caller's IAM policies
 * once the first `unauthenticatedRequests` requests have passed unchecked (see motoIam.ts, which
 * spends them on setting up users); it then runs test/helpers/moto_iam.py, moto with a fix for
 * signatures of prefixed listings. With `atomicConditionalWrites` (not with `iam`), it runs
 * test/helpers/moto_conditional.py, moto whose If-None-Match check holds against concurrent
 * writers of one key, as AWS's does. With `restoreStatus` (alone), it runs
 * test/helpers/moto_restore_status.py, moto whose ListObjectsV2 reports RestoreStatus when asked,
 * as AWS's does (moto as shipped does not).
 */
export async function startMoto(
  extraEnv: Record<string, string> = {},
  iam?: { unauthenticatedRequests: number },
  options: { atomicConditionalWrites?: boolean; restoreStatus?: boolean } = {},
): Promise<Moto> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const script = iam ? 'moto_iam.py' : options.atomicConditionalWrites ? 'moto_conditional.py' : options.restoreStatus ? 'moto_restore_status.py' : undefined;
  const args = script ? [path.join(__dirname, script), '127.0.0.1', String(port)] : ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)];
  const proc: ChildProcess = spawn('python3', args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...extraEnv, ...(iam ? { INITIAL_NO_AUTH_ACTION_COUNT: String(iam.unauthenticatedRequests) } : {}) },
  });
  let log = '';
  proc.stderr?.on('data', (d: Buffer) => {
    log = (log + d.toString()).slice(-4000);
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      // A plain connect, not a request: with IAM enforced each request counts against the unchecked ones.
      await new Promise<void>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(resolve));
        socket.on('error', reject);
      });
      break;
    } catch {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`moto did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  const stop = async (): Promise<void> => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
  };
  return motoApi(endpoint, { accessKeyId: 'test', secretAccessKey: 'test' }, stop);
}

/** The helpers of a started moto, calling it with `credentials`; stop() also stops the server. */
export function motoApi(endpoint: string, credentials: Credentials, stopServer: () => Promise<void>): Moto {
  const client = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials });
  return {
    endpoint,
    client,
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    async keys(bucket) {
      const res = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (res.Contents ?? []).map((o) => o.Key!).sort();
    },
    async openUploads(bucket) {
      const res = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      return (res.Uploads ?? []).map((u) => u.Key!);
    },
    async restore(bucket, key) {
      await client.send(new RestoreObjectCommand({ Bucket: bucket, Key: key, RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: 'Standard' } } }));
    },
    async stop() {
      client.destroy();
      await stopServer();
    },
  };
}

/**
 * The usual set-up of a test file: before its tests, a work folder and moto with one bucket;
 * after them, both gone. `use` receives them (assign them to the file's variables).
 */
export function useMoto(bucket: string, use: (moto: Moto, work: string) => void): void {
  hooks(bucket, false, (moto, work) => use(moto, work));
}

/** useMoto, plus a fault-injecting proxy in front of moto (see faultProxy.ts). */
export function useMotoBehindFaultProxy(bucket: string, use: (moto: Moto, work: string, proxy: FaultProxy) => void): void {
  hooks(bucket, true, (moto, work, proxy) => use(moto, work, proxy!));
}

function hooks(bucket: string, withProxy: boolean, use: (moto: Moto, work: string, proxy?: FaultProxy) => void): void {
  let moto: Moto | undefined;
  let work: string | undefined;
  let proxy: FaultProxy | undefined;
  before(async () => {
    work = tempDir();
    moto = await startMoto();
    await moto.createBucket(bucket);
    if (withProxy) proxy = await startFaultProxy(moto.endpoint);
    use(moto, work, proxy);
  });
  after(async () => {
    await proxy?.close();
    await moto?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });
}
