import { createHash, X509Certificate } from 'node:crypto';
import { KurError } from '../util/errors.js';

/** A source of random bytes (node:crypto's randomBytes), passed in so tests are deterministic. */
export type RandomBytes = (size: number) => Uint8Array;

const tokenAlphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A kubeadm bootstrap token: `[a-z0-9]{6}.[a-z0-9]{16}`. */
export function generateBootstrapToken(random: RandomBytes): string {
  return `${randomString(6, random)}.${randomString(16, random)}`;
}

export function isBootstrapToken(token: string): boolean {
  return /^[a-z0-9]{6}\.[a-z0-9]{16}$/.test(token);
}

/** The key `kubeadm init --upload-certs` encrypts the shared certificates with: 32 bytes, hex. */
export function generateCertificateKey(random: RandomBytes): string {
  return Buffer.from(random(32)).toString('hex');
}

export function isCertificateKey(key: string): boolean {
  return /^[0-9a-f]{64}$/.test(key);
}

/**
 * kubeadm's discovery pin for a CA: `sha256:` + hex SHA-256 of the certificate's
 * SubjectPublicKeyInfo (what `kubeadm token create --print-join-command` prints). The caller
 * reads /etc/kubernetes/pki/ca.crt from the first control plane after `kubeadm init`.
 */
export function caCertHash(pem: string): string {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw new KurError('internal', 'the cluster CA certificate could not be parsed', { cause: error });
  }
  const spki = certificate.publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

// Rejection sampling keeps every character equally likely (256 is not a multiple of 36).
function randomString(length: number, random: RandomBytes): string {
  let out = '';
  const limit = 256 - (256 % tokenAlphabet.length);
  while (out.length < length) {
    for (const byte of random(length)) {
      if (byte < limit && out.length < length) out += tokenAlphabet[byte % tokenAlphabet.length];
    }
  }
  return out;
}
