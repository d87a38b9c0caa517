/**
 * The SSH tunnels of targets behind a bastion: checking what a create or change asks for (the key must be
 * readable, with its passphrase when encrypted), and one open tunnel per target id, shared by every
 * connection to that target and replaced when the target's tunnel or address changes.
 */
import { createHash } from "node:crypto";
import { validationError } from "../errors.js";
import type { Vault } from "../vault/index.js";
import type { ConnectOptions } from "./postgres/index.js";
import { SshTunnel, type SshTunnelOptions, type SshTunnelSettings } from "./postgres/ssh-tunnel.js";
import { checkPrivateKey } from "./ssh-key-pair.js";
import type { SshKeys } from "./ssh-keys.js";
import type { StoredSshTunnel, TargetRow } from "./target-queries.js";
import type { SshTunnelPatch } from "./target-schemas.js";

interface TunnelSecret {
  private_key: string;
  passphrase?: string;
}

/** A tunnel as asked for, checked, before its host key is known for sure. */
export interface PlannedTunnel {
  stored: Omit<StoredSshTunnel, "host_key_fingerprint" | "host_key_source">;
  /** Pinned by the user or kept from before; undefined: pin the one the connection test sees. */
  hostKey: { fingerprint: string; source: StoredSshTunnel["host_key_source"] } | undefined;
  settings: SshTunnelSettings;
  secretEncrypted: Buffer | null;
}

function invalid(field: string, message: string): never {
  throw validationError({ [`ssh_tunnel.${field}`]: [message] });
}

export class TargetTunnels {
  private readonly open = new Map<string, { signature: string; tunnel: Promise<SshTunnel> }>();

  constructor(
    private readonly vault: Vault,
    private readonly sshKeys: SshKeys,
    private readonly options: SshTunnelOptions = {},
  ) {}

  /** Checks a new tunnel (`current` undefined) or a change to the target's current one. */
  async plan(input: SshTunnelPatch, current: TargetRow | undefined): Promise<PlannedTunnel> {
    const before = current?.ssh_tunnel ?? undefined;
    const host = input.host ?? before?.host ?? invalid("host", "required");
    const port = input.port ?? before?.port ?? invalid("port", "required");
    const username = input.username ?? before?.username ?? invalid("username", "required");
    const key = await this.key(input, current);
    let hostKey: PlannedTunnel["hostKey"];
    if (typeof input.host_key_fingerprint === "string") {
      hostKey = { fingerprint: input.host_key_fingerprint, source: "pinned" };
    } else if (input.host_key_fingerprint === undefined && before) {
      const sameBastion = before.host === host && before.port === port;
      if (sameBastion || before.host_key_source === "pinned") {
        hostKey = { fingerprint: before.host_key_fingerprint, source: before.host_key_source };
      }
    }
    return {
      stored: { host, port, username, key_id: key.keyId, public_key: key.publicKey },
      hostKey,
      settings: {
        host,
        port,
        username,
        privateKey: key.secret.private_key,
        passphrase: key.secret.passphrase,
        hostKeyFingerprint: hostKey?.fingerprint,
      },
      secretEncrypted: key.secretEncrypted,
    };
  }

  /** A tunnel for a connection test before saving; the caller closes it. */
  trial(planned: PlannedTunnel, destination: { host: string; port: number }): SshTunnel {
    return new SshTunnel(planned.settings, destination, this.options);
  }

  /** Connect options that route through the target's tunnel, if it has one. */
  connectOptions(row: TargetRow): ConnectOptions {
    if (!row.ssh_tunnel) return {};
    const tunnel = this.tunnelOf(row);
    return { route: async () => (await tunnel).route() };
  }

  /** Closes the target's tunnel (after a change or a delete); the next connection opens a new one. */
  async forget(targetId: string): Promise<void> {
    const entry = this.open.get(targetId);
    this.open.delete(targetId);
    await entry?.tunnel.then((t) => t.close()).catch(() => {});
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.open.keys()].map((id) => this.forget(id)));
  }

  private tunnelOf(row: TargetRow): Promise<SshTunnel> {
    const signature = createHash("sha256")
      .update(
        JSON.stringify([
          row.host,
          row.port,
          row.ssh_tunnel,
          row.ssh_secret_encrypted?.toString("base64") ?? null,
        ]),
      )
      .digest("base64");
    const cached = this.open.get(row.id);
    if (cached?.signature === signature) return cached.tunnel;
    // changed by this or another process since the tunnel was opened
    if (cached) void cached.tunnel.then((t) => t.close()).catch(() => {});
    const tunnel = this.settingsOf(row).then(
      (settings) => new SshTunnel(settings, { host: row.host, port: row.port }, this.options),
    );
    this.open.set(row.id, { signature, tunnel });
    tunnel.catch(() => {
      if (this.open.get(row.id)?.tunnel === tunnel) this.open.delete(row.id);
    });
    return tunnel;
  }

  private async settingsOf(row: TargetRow): Promise<SshTunnelSettings> {
    const stored = row.ssh_tunnel!;
    const secret = await this.storedSecret(row);
    return {
      host: stored.host,
      port: stored.port,
      username: stored.username,
      privateKey: secret.private_key,
      passphrase: secret.passphrase,
      hostKeyFingerprint: stored.host_key_fingerprint,
    };
  }

  private async storedSecret(row: TargetRow): Promise<TunnelSecret> {
    const keyId = row.ssh_tunnel?.key_id;
    if (keyId) {
      const pair = await this.sshKeys.pair(keyId);
      if (!pair) throw validationError({ "ssh_tunnel.key_id": [`the SSH key ${keyId} no longer exists`] });
      return { private_key: pair.privateKey };
    }
    return JSON.parse(this.vault.decrypt(row.ssh_secret_encrypted!)) as TunnelSecret;
  }

  private async key(
    input: SshTunnelPatch,
    current: TargetRow | undefined,
  ): Promise<{
    keyId: string | null;
    publicKey: string;
    secret: TunnelSecret;
    secretEncrypted: Buffer | null;
  }> {
    if (input.key_id !== undefined) {
      if (input.passphrase !== undefined)
        invalid("passphrase", "a key made by the service has no passphrase");
      const pair = await this.sshKeys.pair(input.key_id);
      if (!pair)
        invalid("key_id", `no SSH key ${input.key_id}: make one with POST /v1/targets/postgres/ssh-keys`);
      return {
        keyId: input.key_id,
        publicKey: pair.publicKey,
        secret: { private_key: pair.privateKey },
        secretEncrypted: null,
      };
    }
    let secret: TunnelSecret;
    if (input.private_key !== undefined) {
      secret = { private_key: input.private_key };
    } else if (current?.ssh_tunnel) {
      const kept = await this.storedSecret(current);
      if (input.passphrase === undefined || current.ssh_tunnel.key_id) {
        if (input.passphrase !== undefined)
          invalid("passphrase", "a key made by the service has no passphrase");
        return {
          keyId: current.ssh_tunnel.key_id,
          publicKey: current.ssh_tunnel.public_key,
          secret: kept,
          secretEncrypted: current.ssh_secret_encrypted,
        };
      }
      secret = { private_key: kept.private_key };
    } else {
      invalid(
        "private_key",
        "required: a private key, or key_id of a key made by POST /v1/targets/postgres/ssh-keys",
      );
    }
    if (input.passphrase !== undefined) secret.passphrase = input.passphrase;
    const checked = checkPrivateKey(secret.private_key, secret.passphrase);
    if (!checked.ok) invalid(checked.field, checked.message);
    return {
      keyId: null,
      publicKey: checked.publicKey,
      secret,
      secretEncrypted: this.vault.encrypt(JSON.stringify(secret)),
    };
  }
}
