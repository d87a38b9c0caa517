/**
 * Looking for secrets in what the service lets out (logs, answers, pages, printed files): every form a
 * secret could take there (as is, URL-encoded, JSON- and HTML-escaped, base64 at any byte alignment, hex),
 * and any 40-character slice of a private key's base64 body, across line breaks.
 */

/** The characters of base64(…secret…) that do not depend on the bytes around it, for each of the 3 alignments. */
function base64Cores(secret: Buffer, url: boolean): string[] {
  return [0, 1, 2].map((offset) => {
    const encoded = Buffer.concat([Buffer.alloc(offset), secret]).toString(url ? "base64url" : "base64");
    // the first group holds prefix bits when offset > 0; the last one may hold suffix bits or padding
    return encoded.slice(offset > 0 ? 4 : 0, -4);
  });
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** Every way `secret` could be written out by an encoder we use or a library might use. */
export function secretForms(secret: string): Map<string, string> {
  const bytes = Buffer.from(secret);
  const forms = new Map<string, string>([
    ["as is", secret],
    ["URL-encoded", encodeURIComponent(secret)],
    ["form-encoded", new URLSearchParams({ s: secret }).toString().slice(2)],
    ["JSON-escaped", JSON.stringify(secret).slice(1, -1)],
    ["JSON-escaped twice", JSON.stringify(JSON.stringify(secret)).slice(3, -3)],
    ["HTML-escaped", escapeHtml(secret)],
    ["hex", bytes.toString("hex")],
  ]);
  // a secret cut short, or written with its special characters changed, still shows its plain run
  const run = (secret.match(/[\w-]{16,}/g) ?? []).sort((a, b) => b.length - a.length)[0];
  if (run && run !== secret) forms.set("its longest plain run", run);
  for (const [i, core] of base64Cores(bytes, false).entries()) forms.set(`base64 (alignment ${i})`, core);
  for (const [i, core] of base64Cores(bytes, true).entries()) forms.set(`base64url (alignment ${i})`, core);
  return forms;
}

/**
 * The secret part of a private key's base64 body, on one line. An OpenSSH key file starts in the clear
 * with its format, cipher and public key (which the API shows, for authorized_keys): only the base64 of
 * its private section is secret. Other formats: the whole body.
 */
export function keySecretBody(privateKey: string): string {
  const body = privateKey
    .split("\n")
    .filter((line) => !line.startsWith("-----"))
    .join("")
    .replace(/\s/g, "");
  const bytes = Buffer.from(body, "base64");
  const magic = "openssh-key-v1\0";
  if (bytes.subarray(0, magic.length).toString("latin1") !== magic) return body;
  let at = magic.length;
  const skipString = () => {
    at += 4 + bytes.readUInt32BE(at);
  };
  skipString(); // cipher name
  skipString(); // kdf name
  skipString(); // kdf options
  const keys = bytes.readUInt32BE(at);
  at += 4;
  for (let i = 0; i < keys; i++) skipString(); // public keys
  const privateStart = at + 4;
  // the first base64 group made of private bytes only
  return body.slice(Math.ceil(privateStart / 3) * 4);
}

/** Text with line breaks (real or escaped) and URL-encoded base64 characters undone, for key slices. */
function flattened(text: string): string {
  return text
    .replace(/%2B/gi, "+")
    .replace(/%2F/gi, "/")
    .replace(/%3D/gi, "=")
    .replace(/\\[nr]|\\\/|\s/g, (m) => (m === "\\/" ? "/" : ""));
}

export interface Secrets {
  /** name → value, matched in every form of secretForms */
  values: Record<string, string>;
  /** name → private key text, matched by any 40-character slice of its secret body */
  keys: Record<string, string>;
}

/** Where a secret was found: which secret, in which form, in which output, and around what. */
export function findSecrets(secrets: Secrets, outputs: Map<string, string>): string[] {
  const found: string[] = [];
  const patterns = Object.entries(secrets.values).flatMap(([name, value]) =>
    [...secretForms(value)].map(([form, text]) => ({ what: `${name} (${form})`, text })),
  );
  const slices = Object.entries(secrets.keys).map(([name, key]) => {
    const body = keySecretBody(key);
    return { name, windows: Array.from({ length: body.length - 39 }, (_, i) => body.slice(i, i + 40)) };
  });
  for (const [where, text] of outputs) {
    for (const { what, text: pattern } of patterns) {
      const at = text.indexOf(pattern);
      if (at >= 0) found.push(`${what} in ${where}: …${text.slice(Math.max(0, at - 80), at + 80)}…`);
    }
    if (text.includes("PRIVATE KEY-----")) found.push(`a private key's armour line in ${where}`);
    const flat = flattened(text);
    for (const { name, windows } of slices) {
      const window = windows.find((w) => flat.includes(w));
      if (window) found.push(`${name} (slice ${window}) in ${where}`);
    }
  }
  return found;
}
