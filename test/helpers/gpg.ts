/** Real GnuPG for tests: a fresh GNUPGHOME each time; secrets passed on a file descriptor. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export class Gpg {
  readonly home = mkdtempSync(path.join(os.tmpdir(), 'gb-gnupg-'));

  run(args: string[], input?: Buffer | string): { status: number; stdout: Buffer; stderr: string } {
    const res = spawnSync('gpg', ['--homedir', this.home, '--batch', '--no-tty', '--pinentry-mode', 'loopback', ...args], {
      input,
      maxBuffer: 1 << 30,
    });
    return { status: res.status ?? -1, stdout: res.stdout, stderr: res.stderr.toString() };
  }

  /** Decrypts with a passphrase given on fd 0 ahead of nothing else: data comes from a file. */
  decryptFileWithPassphrase(file: string, passphrase: string): { status: number; stdout: Buffer; stderr: string } {
    return this.run(['--passphrase-fd', '0', '--decrypt', file], `${passphrase}\n`);
  }

  decryptFile(file: string, keyPassphrase = ''): { status: number; stdout: Buffer; stderr: string } {
    return this.run(['--passphrase-fd', '0', '--decrypt', file], `${keyPassphrase}\n`);
  }

  /** Generates a key pair with gpg itself; returns its armored public key and fingerprint. */
  generateKey(uid: string, keyPassphrase: string, algo = 'rsa3072'): { publicKey: string; secretKey: string; fingerprint: string } {
    const gen = this.run(['--passphrase-fd', '0', '--quick-gen-key', uid, algo, 'default', 'never'], `${keyPassphrase}\n`);
    if (gen.status !== 0) throw new Error(`gpg key generation failed: ${gen.stderr}`);
    const pub = this.run(['--armor', '--export', uid]).stdout.toString();
    const sec = this.run(['--passphrase-fd', '0', '--armor', '--export-secret-keys', uid], `${keyPassphrase}\n`).stdout.toString();
    const colons = this.run(['--with-colons', '--fingerprint', uid]).stdout.toString();
    const fpr = /^fpr:+([0-9A-F]{40}):/m.exec(colons)?.[1] ?? '';
    return { publicKey: pub, secretKey: sec, fingerprint: fpr };
  }

  dispose(): void {
    spawnSync('gpgconf', ['--homedir', this.home, '--kill', 'all']);
    rmSync(this.home, { recursive: true, force: true });
  }
}
