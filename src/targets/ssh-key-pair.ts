/**
 * SSH keys for bastion tunnels: generating an ed25519 pair (the public half is what users install on their
 * bastion), reading a private key users send, and fingerprints as `ssh-keygen -lf` prints them.
 */
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import ssh2 from "ssh2";

export interface SshKeyPair {
  /** OpenSSH private key format (`-----BEGIN OPENSSH PRIVATE KEY-----`), unencrypted. */
  privateKey: string;
  /** One authorized_keys line: `ssh-ed25519 AAAA… sequin`. */
  publicKey: string;
}

/** `SHA256:` and 43 base64 characters, as `ssh-keygen -lf` prints a key's fingerprint. */
export const sshFingerprintPattern = /^SHA256:[A-Za-z0-9+/]{43}$/;

/** The fingerprint of a public key in SSH wire format (the blob of an authorized_keys line). */
export function sshFingerprint(publicKeyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(publicKeyBlob).digest("base64").replace(/=+$/, "")}`;
}

function sshString(value: Buffer | string): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value) : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

function uint32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
}

/** A new ed25519 key pair, made with node's crypto and written in OpenSSH's own formats. */
export function generateSshKeyPair(comment = "sequin"): SshKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const seed = Buffer.from(privateKey.export({ format: "jwk" }).d!, "base64url");
  const pub = Buffer.from(publicKey.export({ format: "jwk" }).x!, "base64url");
  const blob = Buffer.concat([sshString("ssh-ed25519"), sshString(pub)]);
  // PROTOCOL.key: the private section starts with a random check value written twice, and is padded
  // with 1, 2, 3, … to the cipher's block size (8 for "none").
  const check = randomBytes(4);
  let section = Buffer.concat([
    check,
    check,
    sshString("ssh-ed25519"),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ]);
  const padding = Buffer.from(Array.from({ length: (8 - (section.length % 8)) % 8 }, (_, i) => i + 1));
  section = Buffer.concat([section, padding]);
  const body = Buffer.concat([
    Buffer.from("openssh-key-v1\0"),
    sshString("none"),
    sshString("none"),
    sshString(""),
    uint32(1),
    sshString(blob),
    sshString(section),
  ]);
  const lines = body.toString("base64").match(/.{1,70}/g)!;
  return {
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join("\n")}\n-----END OPENSSH PRIVATE KEY-----\n`,
    publicKey: `ssh-ed25519 ${blob.toString("base64")} ${comment}`,
  };
}

export type PrivateKeyCheck =
  | { ok: true; publicKey: string }
  | { ok: false; field: "private_key" | "passphrase"; message: string };

/**
 * Whether `text` is a private key that the SSH client can use, with `passphrase` when it is encrypted;
 * on success, its public key as an authorized_keys line.
 */
export function checkPrivateKey(text: string, passphrase?: string): PrivateKeyCheck {
  const parsed = ssh2.utils.parseKey(text, passphrase);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key instanceof Error || key === undefined) {
    const reason = key instanceof Error ? key.message : "no key found";
    if (/no passphrase given/i.test(reason)) {
      return {
        ok: false,
        field: "passphrase",
        message: "the private key is encrypted: give its passphrase",
      };
    }
    if (passphrase !== undefined && /decrypt|passphrase|bad/i.test(reason)) {
      return { ok: false, field: "passphrase", message: `cannot decrypt the private key: ${reason}` };
    }
    return {
      ok: false,
      field: "private_key",
      message: `not a private key the SSH client can read (${reason}): send an OpenSSH or PEM private key`,
    };
  }
  if (!key.isPrivateKey()) {
    return { ok: false, field: "private_key", message: "this is a public key: send the private key" };
  }
  const comment = key.comment ? ` ${key.comment}` : "";
  return { ok: true, publicKey: `${key.type} ${key.getPublicSSH().toString("base64")}${comment}` };
}
