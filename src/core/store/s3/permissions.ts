/**
 * What the credentials at hand may do under the prefix, tested with requests that write nothing,
 * and what each role (back up, restore, admin) needs of it.
 *
 * How a permission is told apart without writing: S3 checks permission before it looks at the
 * object or the request's preconditions, so a request about a key that does not exist (or an
 * upload id that does not exist) is refused (403) without the permission and answered "not
 * found" or "precondition failed" with it. The writes carry `If-Match` (nothing to match: no
 * write) and a Content-MD5 that does not match the empty body (a store that ignored `If-Match`
 * still rejects the body); should an endpoint store the probe anyway, it is said, and deleted if
 * allowed. Deleting is not tested: no request proves it without writing (on a versioned bucket,
 * deleting even a missing key adds a delete marker).
 *
 * A 403 on a read of a missing key is ambiguous when listing is refused (S3 then answers 403
 * rather than revealing that the key is missing): such an answer is 'unknown'.
 *
 * Checked against moto with IAM enforced (test/integration/iam-check.test.ts): 403 without the
 * permission, NoSuchKey / NoSuchUpload with it, nothing stored. moto ignores a wrong Content-MD5
 * (it stores the body), so that second guard rests on S3's documented BadDigest alone.
 */
import {
  AbortMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  RestoreObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { StoreConfig } from '../../config';
import { archivesDir, catalogDir } from '../../model/keys';
import { describeError } from '../../errors';
import { deleteOrSayS3 } from './storedCheck';

export type Permission = 'list' | 'list-uploads' | 'read-catalog' | 'read-archives' | 'write-archives' | 'write-catalog' | 'abort-uploads' | 'list-parts' | 'restore';
export type Answer = 'allowed' | 'refused' | 'unknown';

export interface PermissionResult {
  permission: Permission;
  /** The IAM action it takes. */
  action: string;
  answer: Answer;
  /** What S3 answered, when it says more than the answer (an unexpected error, a probe written). */
  detail?: string;
}

export const iamAction: Record<Permission, string> = {
  list: 's3:ListBucket',
  'list-uploads': 's3:ListBucketMultipartUploads',
  'read-catalog': 's3:GetObject on catalog/',
  'read-archives': 's3:GetObject on archives/',
  'write-archives': 's3:PutObject on archives/',
  'write-catalog': 's3:PutObject on catalog/',
  'abort-uploads': 's3:AbortMultipartUpload',
  'list-parts': 's3:ListMultipartUploadParts',
  restore: 's3:RestoreObject',
};

export type Role = 'back up' | 'restore' | 'admin';

/** What each role needs; `optional` only improves it. Admin (check --repair, deleting) also needs s3:DeleteObject, which is not tested. */
export const roleNeeds: Record<Role, { needs: Permission[]; optional: { permission: Permission; gives: string }[] }> = {
  'back up': {
    needs: ['list', 'list-uploads', 'write-archives', 'write-catalog', 'abort-uploads', 'list-parts'],
    optional: [{ permission: 'read-catalog', gives: 'unchanged content recognised without a local record (passphrase mode)' }],
  },
  restore: { needs: ['list', 'read-catalog', 'read-archives', 'restore'], optional: [] },
  admin: { needs: ['list', 'list-uploads', 'read-catalog', 'read-archives', 'abort-uploads'], optional: [] },
};

export const deleteNotTested =
  's3:DeleteObject (admin: check --repair, deleting archives) is not tested: no request proves it without writing (on a versioned bucket, deleting even a missing key adds a delete marker)';

/** A key no backup makes (ids match archiveIdPattern), so it does not exist. */
const probeName = 'glacier-backup-permission-probe';

function status(err: unknown): { code?: number; name: string } {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return { code: e.$metadata?.httpStatusCode, name: e.name ?? '' };
}

export async function probePermissions(client: S3Client, store: StoreConfig): Promise<PermissionResult[]> {
  const archive = `${store.prefix}${archivesDir}${probeName}`;
  const catalog = `${store.prefix}${catalogDir}${probeName}`;
  const where = { bucket: store.bucket, endpoint: store.endpoint };
  const results: PermissionResult[] = [];
  /** `missing`: the error names that mean "allowed, and nothing there"; a 403 is refused (unknown for reads when listing is refused). */
  const probe = async (permission: Permission, send: () => Promise<unknown>, missing: string[], read = false): Promise<void> => {
    const result: PermissionResult = { permission, action: iamAction[permission], answer: 'unknown' };
    try {
      await send();
      result.answer = 'allowed';
    } catch (err) {
      const { code, name } = status(err);
      const listRefused = results.find((r) => r.permission === 'list')?.answer !== 'allowed';
      if (missing.includes(name) || (code === 404 && !['NoSuchBucket', 'NotImplemented'].includes(name))) result.answer = 'allowed';
      else if (code === 403 && !(read && listRefused)) result.answer = 'refused';
      else result.detail = describeError(err);
    }
    results.push(result);
  };
  const B = store.bucket;
  await probe('list', () => client.send(new ListObjectsV2Command({ Bucket: B, Prefix: store.prefix, MaxKeys: 1 })), []);
  await probe('list-uploads', () => client.send(new ListMultipartUploadsCommand({ Bucket: B, Prefix: store.prefix, MaxUploads: 1 })), []);
  await probe('read-catalog', () => client.send(new GetObjectCommand({ Bucket: B, Key: catalog })), ['NoSuchKey'], true);
  await probe('read-archives', () => client.send(new HeadObjectCommand({ Bucket: B, Key: archive })), ['NotFound', 'NoSuchKey'], true);
  for (const [permission, key] of [
    ['write-archives', archive],
    ['write-catalog', catalog],
  ] as const) {
    let written = false;
    await probe(
      permission,
      async () => {
        // The MD5 of "probe", not of the empty body: a store that ignored If-Match rejects it as BadDigest.
        await client.send(new PutObjectCommand({ Bucket: B, Key: key, Body: new Uint8Array(0), IfMatch: '"00000000000000000000000000000000"', ContentMD5: 'jahD/2UgWmE3Swm4HtD6NQ==' }));
        written = true;
      },
      ['NoSuchKey', 'PreconditionFailed', 'BadDigest', 'InvalidDigest'],
    );
    if (written) {
      const left = await deleteOrSayS3(client, where, key, 'permission probe');
      results[results.length - 1]!.detail = `the endpoint ignored If-Match and Content-MD5 and stored an empty probe object, which ${left ?? 'was deleted'}`;
    }
  }
  await probe('abort-uploads', () => client.send(new AbortMultipartUploadCommand({ Bucket: B, Key: archive, UploadId: probeName })), ['NoSuchUpload']);
  await probe('list-parts', () => client.send(new ListPartsCommand({ Bucket: B, Key: archive, UploadId: probeName })), ['NoSuchUpload']);
  await probe('restore', () => client.send(new RestoreObjectCommand({ Bucket: B, Key: archive, RestoreRequest: { Days: 1 } })), ['NoSuchKey', 'InvalidObjectState']);
  return results;
}

/** For each role: 'yes' when every permission it needs is allowed, 'no' when one is refused, else 'unknown'; and what is missing. */
export function rolesFrom(results: readonly PermissionResult[]): { role: Role; works: 'yes' | 'no' | 'unknown'; missing: string[]; unknown: string[]; lacking: string[] }[] {
  const answer = (p: Permission): Answer => results.find((r) => r.permission === p)?.answer ?? 'unknown';
  return (Object.keys(roleNeeds) as Role[]).map((role) => {
    const { needs, optional } = roleNeeds[role];
    const missing = needs.filter((p) => answer(p) === 'refused').map((p) => iamAction[p]);
    const unknown = needs.filter((p) => answer(p) === 'unknown').map((p) => iamAction[p]);
    const lacking = optional.filter((o) => answer(o.permission) !== 'allowed').map((o) => `${iamAction[o.permission]} (${o.gives})`);
    return { role, works: missing.length ? 'no' : unknown.length ? 'unknown' : 'yes', missing, unknown, lacking };
  });
}
