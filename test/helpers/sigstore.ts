import { generateKeyPairSync, randomBytes, scryptSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import nacl from 'tweetnacl';

// A sigstore signing key in the format skopeo's --sign-by-sigstore-private-key reads (what
// `cosign generate-key-pair` writes): a PEM block ENCRYPTED SIGSTORE PRIVATE KEY whose body is
// go-securesystemslib's `encrypted` JSON envelope: scrypt(passphrase, salt) gives a 32-byte key
// for a nacl secretbox (XSalsa20-Poly1305) holding the PKCS#8 DER of an EC P-256 key. skopeo 1.9
// cannot generate one, so the tests make it here.

const SCRYPT = { N: 32768, r: 8, p: 1 };

export interface SigstoreKey {
  privateKeyFile: string;
  publicKeyFile: string;
  passphraseFile: string;
}

function pem(type: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${type}-----\n${lines.join('\n')}\n-----END ${type}-----\n`;
}

/** Write a fresh key pair and its passphrase into `dir`. */
export async function createSigstoreKey(dir: string, passphrase = 'blobmirror-test'): Promise<SigstoreKey> {
  await mkdir(dir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  const salt = randomBytes(32);
  const nonce = randomBytes(nacl.secretbox.nonceLength);
  const key = scryptSync(passphrase, salt, nacl.secretbox.keyLength, {
    ...SCRYPT,
    maxmem: 128 * SCRYPT.N * SCRYPT.r * 2,
  });
  const ciphertext = nacl.secretbox(new Uint8Array(der), new Uint8Array(nonce), new Uint8Array(key));
  const envelope = {
    kdf: { name: 'scrypt', params: SCRYPT, salt: salt.toString('base64') },
    cipher: { name: 'nacl/secretbox', nonce: nonce.toString('base64') },
    ciphertext: Buffer.from(ciphertext).toString('base64'),
  };
  const files: SigstoreKey = {
    privateKeyFile: join(dir, 'sigstore.key'),
    publicKeyFile: join(dir, 'sigstore.pub'),
    passphraseFile: join(dir, 'sigstore.passphrase'),
  };
  await writeFile(files.privateKeyFile, pem('ENCRYPTED SIGSTORE PRIVATE KEY', Buffer.from(JSON.stringify(envelope))));
  await writeFile(files.publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  await writeFile(files.passphraseFile, passphrase);
  return files;
}

/**
 * A policy.json that accepts `scope` (host:port/repository or host:port) only with a sigstore
 * signature by `publicKeyFile`, and a registries.d entry telling skopeo to look for the
 * signatures as cosign-scheme attachments there. Returns the two paths for --policy and
 * --registries.d.
 */
export async function writeVerifyPolicy(
  dir: string,
  host: string,
  publicKeyFile: string,
): Promise<{ policy: string; registriesD: string }> {
  await mkdir(join(dir, 'registries.d'), { recursive: true });
  const policy = join(dir, 'policy.json');
  await writeFile(
    policy,
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: {
        docker: {
          [host]: [{ type: 'sigstoreSigned', keyPath: publicKeyFile, signedIdentity: { type: 'matchRepository' } }],
        },
        oci: { '': [{ type: 'insecureAcceptAnything' }] },
        dir: { '': [{ type: 'insecureAcceptAnything' }] },
      },
    }),
  );
  await writeFile(
    join(dir, 'registries.d', 'blobmirror-test.yaml'),
    `docker:\n  ${JSON.stringify(host)}:\n    use-sigstore-attachments: true\n`,
  );
  return { policy, registriesD: join(dir, 'registries.d') };
}
