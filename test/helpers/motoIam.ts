/**
 * moto with IAM enforced, and three users holding the policies the product shows ("Check Bucket",
 * iamPolicies in src/core/store/s3/bucketCheck.ts): back-up-only, restore-only, and an admin allowed
 * everything. The bucket and the users are made with the requests moto lets through unchecked;
 * every later request, the admin's included, is checked against its signer's policies.
 */
import { iamPolicies } from '../../src/core/store/s3/bucketCheck';
import { motoApi, startMoto, type Credentials, type Moto } from './moto';

export interface IamUsers {
  backupOnly: Credentials;
  restore: Credentials;
  admin: Credentials;
}

/** CreateBucket, then CreateUser, PutUserPolicy and CreateAccessKey for each user. */
const setupRequests = (users: number): number => 1 + users * 3;

/** An IAM query call made while moto does not check requests yet; the Authorization header only routes it to IAM. */
async function iamCall(endpoint: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: new URLSearchParams({ ...params, Version: '2010-05-08' }).toString(),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`IAM ${params.Action} failed: ${res.status} ${text}`);
  return text;
}

async function makeUser(endpoint: string, name: string, policy: object): Promise<Credentials> {
  await iamCall(endpoint, { Action: 'CreateUser', UserName: name });
  await iamCall(endpoint, { Action: 'PutUserPolicy', UserName: name, PolicyName: `${name}-policy`, PolicyDocument: JSON.stringify(policy) });
  const xml = await iamCall(endpoint, { Action: 'CreateAccessKey', UserName: name });
  const field = (tag: string): string => {
    const m = new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(xml);
    if (!m) throw new Error(`CreateAccessKey returned no ${tag}: ${xml}`);
    return m[1]!;
  };
  return { accessKeyId: field('AccessKeyId'), secretAccessKey: field('SecretAccessKey') };
}

/**
 * Starts moto with IAM enforced, one bucket, and the three users, plus one user per policy of
 * `more` (in `extra`, by the same name); `moto` calls it as the admin.
 */
export async function startMotoWithIam(
  bucket: string,
  prefix: string,
  more: Record<string, object> = {},
): Promise<{ moto: Moto; users: IamUsers; extra: Record<string, Credentials> }> {
  const server = await startMoto({}, { unauthenticatedRequests: setupRequests(3 + Object.keys(more).length) });
  await server.createBucket(bucket);
  const policies = iamPolicies(bucket, prefix);
  const users: IamUsers = {
    backupOnly: await makeUser(server.endpoint, 'backup-only', policies.backupOnly),
    restore: await makeUser(server.endpoint, 'restore-only', policies.restore),
    admin: await makeUser(server.endpoint, 'admin', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }),
  };
  const extra: Record<string, Credentials> = {};
  for (const [name, policy] of Object.entries(more)) extra[name] = await makeUser(server.endpoint, name, policy);
  server.client.destroy();
  return { moto: motoApi(server.endpoint, users.admin, () => server.stop()), users, extra };
}
