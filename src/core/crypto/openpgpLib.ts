/**
 * openpgp.js, required on first property access (a bundled CommonJS module runs only then), so
 * that what does not need it (a passphrase backup or restore, an unchanged backup, listing) does
 * not pay for loading it.
 */
import type * as OpenPGP from 'openpgp';

let loaded: typeof OpenPGP | undefined;
export const openpgp = new Proxy({} as typeof OpenPGP, {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deliberately lazy: import() would make every caller async
  get: (_target, key) => Reflect.get((loaded ??= require('openpgp') as typeof OpenPGP), key),
});
