import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sha256 } from './canonical.ts';
import { StoreError } from './db.ts';

export interface Signer {
  keyId: string;
  /** The Ed25519 signature of an entry's hash, base64. */
  sign(hash: string): string;
}

export interface Verifier {
  keyId: string;
  verify(hash: string, signature: string): boolean;
}

/** A short name for a public key, stored with each signature so that rotated keys can be told apart. */
function keyIdOf(publicKey: KeyObject): string {
  return sha256(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

function readKey(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new StoreError(`cannot read the ${what} ${file}`);
  }
}

function ed25519(key: KeyObject, file: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new StoreError(`${file}: an Ed25519 key is needed, not ${key.asymmetricKeyType ?? 'a secret key'}`);
  }
  return key;
}

/** A PEM private key (`openssl genpkey -algorithm ed25519`). */
export function loadSigner(file: string): Signer {
  let key: KeyObject;
  try {
    key = createPrivateKey(readKey(file, 'signing key'));
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`${file}: not a PEM private key`);
  }
  ed25519(key, file);
  return {
    keyId: keyIdOf(createPublicKey(key)),
    sign: (hash) => sign(null, Buffer.from(hash, 'utf8'), key).toString('base64'),
  };
}

/** A PEM public key (`openssl pkey -in key.pem -pubout`), or a private key, whose public half is used. */
export function loadVerifier(file: string): Verifier {
  let key: KeyObject;
  try {
    key = createPublicKey(readKey(file, 'public key'));
  } catch (error) {
    if (error instanceof StoreError) throw error;
    throw new StoreError(`${file}: not a PEM public key`);
  }
  ed25519(key, file);
  return {
    keyId: keyIdOf(key),
    verify: (hash, signature) => {
      try {
        return verify(null, Buffer.from(hash, 'utf8'), key, Buffer.from(signature, 'base64'));
      } catch {
        return false;
      }
    },
  };
}
