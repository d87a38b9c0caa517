/** Key pairs made for bastion tunnels are what OpenSSH and the SSH client library read. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import ssh2 from "ssh2";
import { checkPrivateKey, generateSshKeyPair, sshFingerprint } from "../../src/targets/ssh-key-pair.js";
import { onCleanup } from "../helpers/cleanup.js";

const run = promisify(execFile);
const dir = join(tmpdir(), `sequin-keys-${randomBytes(4).toString("hex")}`);
await mkdir(dir);
onCleanup(() => rm(dir, { recursive: true, force: true }));

test("a generated pair: ssh-keygen derives the same public key and fingerprint; ssh2 reads it", async () => {
  for (const comment of ["sequin", "a", "abcdefgh"]) {
    const pair = generateSshKeyPair(comment);
    assert.match(
      pair.privateKey,
      /^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END OPENSSH PRIVATE KEY-----\n$/,
    );
    assert.match(
      pair.publicKey,
      new RegExp(`^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/]{43} ${comment}$`),
    );
    const file = join(dir, `key-${comment}`);
    await writeFile(file, pair.privateKey, { mode: 0o600 });
    const { stdout: derived } = await run("ssh-keygen", ["-y", "-f", file]);
    assert.equal(derived.trim(), pair.publicKey);
    await writeFile(`${file}.pub`, `${pair.publicKey}\n`);
    const { stdout: listed } = await run("ssh-keygen", ["-lf", `${file}.pub`]);
    const blob = Buffer.from(pair.publicKey.split(" ")[1]!, "base64");
    assert.equal(listed.split(" ")[1], sshFingerprint(blob));

    const parsed = ssh2.utils.parseKey(pair.privateKey);
    assert.ok(!(parsed instanceof Error) && !Array.isArray(parsed), String(parsed));
    assert.equal(parsed.type, "ssh-ed25519");
    assert.ok(parsed.isPrivateKey());
    assert.deepEqual(checkPrivateKey(pair.privateKey), { ok: true, publicKey: pair.publicKey });
  }
  assert.notEqual(generateSshKeyPair().privateKey, generateSshKeyPair().privateKey);
});

test("private keys users send: readable formats pass, the rest name the field to fix", async () => {
  const rsa = join(dir, "rsa");
  await run("ssh-keygen", ["-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-C", "pem", "-f", rsa]);
  const rsaCheck = checkPrivateKey(await readFile(rsa, "utf8"));
  assert.ok(rsaCheck.ok);
  assert.match(rsaCheck.publicKey, /^ssh-rsa AAAA/);

  const locked = join(dir, "locked");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "pass phrase", "-C", "locked", "-f", locked]);
  const text = await readFile(locked, "utf8");
  assert.deepEqual(checkPrivateKey(text, "pass phrase"), {
    ok: true,
    publicKey: (await readFile(`${locked}.pub`, "utf8")).trim(),
  });
  const missing = checkPrivateKey(text);
  assert.ok(!missing.ok && missing.field === "passphrase");
  const wrong = checkPrivateKey(text, "nope");
  assert.ok(!wrong.ok && wrong.field === "passphrase");
  const garbage = checkPrivateKey(
    "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
  );
  assert.ok(!garbage.ok && garbage.field === "private_key");
  const publicOnly = checkPrivateKey(generateSshKeyPair().publicKey);
  assert.ok(!publicOnly.ok && publicOnly.field === "private_key");
});
