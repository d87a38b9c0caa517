/**
 * Registered Postgres targets: the user's databases. A connection is tried before it is saved, and refused
 * with the database's own reason. Passwords and SSH keys are encrypted with the vault and never leave this
 * module except inside a connection to the target. A target behind a bastion is reached through its SSH
 * tunnel for everything: the test before saving, consumer writes, verification and probes.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { conflict, duplicateNameOr, notFound, SequinError } from "../errors.js";
import { listOf, plural } from "../plural.js";
import type { Vault } from "../vault/index.js";
import {
  type ConnectionTestResult,
  connectTarget,
  type TargetConnection,
  testTargetConnection,
} from "./postgres/index.js";
import type { SshTunnelOptions } from "./postgres/ssh-tunnel.js";
import { SshKeys } from "./ssh-keys.js";
import { targetHealth } from "./target-health.js";
import {
  countConsumersByTarget,
  countConsumersOfTarget,
  deleteTargetRow,
  insertTarget,
  type StoredSshTunnel,
  selectConsumersOfTarget,
  selectTarget,
  selectTargets,
  type TargetRow,
  updateTargetRow,
} from "./target-queries.js";
import type { NewTarget, TargetPatch, TargetView } from "./target-schemas.js";
import { type PlannedTunnel, TargetTunnels } from "./target-tunnels.js";

export class Targets {
  /** Key pairs the service makes for tunnels. */
  readonly sshKeys: SshKeys;
  private readonly tunnels: TargetTunnels;

  constructor(
    private readonly pool: pg.Pool,
    private readonly vault: Vault,
    options: { sshTunnel?: SshTunnelOptions } = {},
  ) {
    this.sshKeys = new SshKeys(pool, vault);
    this.tunnels = new TargetTunnels(vault, this.sshKeys, options.sshTunnel);
  }

  async create(input: NewTarget): Promise<TargetView> {
    const connection = { ssl: "prefer" as const, ...input.connection };
    const planned = input.ssh_tunnel ? await this.tunnels.plan(input.ssh_tunnel, undefined) : undefined;
    const tunnel = await this.refuseUnreachable(connection, planned);
    try {
      const row = await insertTarget(this.pool, {
        id: randomUUID(),
        name: input.name,
        host: connection.host,
        port: connection.port,
        database: connection.database,
        username: connection.username,
        ssl: connection.ssl,
        password_encrypted: this.vault.encrypt(connection.password),
        ssh_tunnel: tunnel,
        ssh_secret_encrypted: planned?.secretEncrypted ?? null,
      });
      return this.view(row);
    } catch (error) {
      throw duplicateNameOr(error, "target", input.name);
    }
  }

  /** Every target with its health: two statements whatever their number. */
  async list(): Promise<TargetView[]> {
    const [rows, counts] = await Promise.all([selectTargets(this.pool), countConsumersByTarget(this.pool)]);
    const now = new Date();
    return rows.map((row) => this.viewOf(row, counts.get(row.id) ?? { total: 0, waiting: 0 }, now));
  }

  async get(id: string): Promise<TargetView> {
    return this.view(await this.row(id));
  }

  /**
   * A changed connection or tunnel is tried before it is saved; the password and the SSH key stay unless
   * new ones are given; `ssh_tunnel: null` removes the tunnel.
   */
  async update(id: string, patch: TargetPatch): Promise<TargetView> {
    const row = await this.row(id);
    const connection: Required<TargetConnection> = { ...this.connectionOf(row), ...patch.connection };
    let tunnel = row.ssh_tunnel;
    let secret = row.ssh_secret_encrypted;
    if (patch.ssh_tunnel === null) {
      tunnel = null;
      secret = null;
    }
    const planned = patch.ssh_tunnel ? await this.tunnels.plan(patch.ssh_tunnel, row) : undefined;
    if (patch.connection || patch.ssh_tunnel !== undefined) {
      const stored = planned ?? (tunnel ? await this.tunnels.plan({}, row) : undefined);
      tunnel = await this.refuseUnreachable(connection, stored);
      secret = stored?.secretEncrypted ?? null;
    }
    try {
      const updated = await updateTargetRow(this.pool, {
        id,
        name: patch.name ?? row.name,
        host: connection.host,
        port: connection.port,
        database: connection.database,
        username: connection.username,
        ssl: connection.ssl,
        password_encrypted: this.vault.encrypt(connection.password),
        ssh_tunnel: tunnel,
        ssh_secret_encrypted: secret,
      });
      if (!updated) throw notFound("target", id);
      if (patch.connection || patch.ssh_tunnel !== undefined) await this.tunnels.forget(id);
      return this.view(updated);
    } catch (error) {
      throw duplicateNameOr(error, "target", patch.name ?? row.name);
    }
  }

  /** Refused (409) while consumers write to it: the answer names them. */
  async delete(id: string): Promise<void> {
    const row = await this.row(id);
    const consumers = await selectConsumersOfTarget(this.pool, id);
    if (consumers.length > 0) {
      const names = listOf(consumers.map((c) => `"${c.name}"`));
      const them = consumers.length === 1 ? "it" : "them";
      throw conflict(
        `target "${row.name}" is used by ${plural(consumers.length, "consumer")}: ${names}. ` +
          `Delete ${them} or move ${them} to another target first.`,
        { consumers },
      );
    }
    if (!(await deleteTargetRow(this.pool, id))) throw notFound("target", id);
    await this.tunnels.forget(id);
  }

  async test(id: string): Promise<ConnectionTestResult> {
    const row = await this.row(id);
    return testTargetConnection(this.connectionOf(row), this.tunnels.connectOptions(row));
  }

  /** An open connection to the target, as its registered user (through its tunnel). The caller ends it. */
  async connect(id: string): Promise<pg.Client> {
    const row = await this.row(id);
    return connectTarget(this.connectionOf(row), this.tunnels.connectOptions(row));
  }

  /** Closes the SSH tunnels (and the connections through them): call when the service stops. */
  async close(): Promise<void> {
    await this.tunnels.closeAll();
  }

  async name(id: string): Promise<string | undefined> {
    return (await selectTarget(this.pool, id))?.name;
  }

  private connectionOf(row: TargetRow): Required<TargetConnection> {
    return {
      host: row.host,
      port: row.port,
      database: row.database,
      username: row.username,
      password: this.vault.decrypt(row.password_encrypted),
      ssl: row.ssl,
    };
  }

  /**
   * Tries the connection (through the planned tunnel); returns the tunnel to store, with the bastion's host
   * key pinned: the given one, or the one this test saw.
   */
  private async refuseUnreachable(
    connection: TargetConnection,
    planned: PlannedTunnel | undefined,
  ): Promise<StoredSshTunnel | null> {
    const trial = planned ? this.tunnels.trial(planned, connection) : undefined;
    try {
      const result = await testTargetConnection(connection, trial ? { route: () => trial.route() } : {});
      if (!result.ok) {
        const through = planned ? ` through the bastion ${planned.stored.host}:${planned.stored.port}` : "";
        throw new SequinError(
          "target_unreachable",
          `cannot connect to ${connection.host}:${connection.port}${through}: ${result.error}`,
        );
      }
      if (!planned) return null;
      const hostKey = planned.hostKey ?? {
        fingerprint: trial!.seenFingerprint!,
        source: "first_use" as const,
      };
      return {
        ...planned.stored,
        host_key_fingerprint: hostKey.fingerprint,
        host_key_source: hostKey.source,
      };
    } finally {
      await trial?.close();
    }
  }

  private async row(id: string): Promise<TargetRow> {
    const row = await selectTarget(this.pool, id);
    if (!row) throw notFound("target", id);
    return row;
  }

  private async view(row: TargetRow): Promise<TargetView> {
    return this.viewOf(row, await countConsumersOfTarget(this.pool, row.id), new Date());
  }

  private viewOf(row: TargetRow, consumers: { total: number; waiting: number }, now: Date): TargetView {
    return {
      id: row.id,
      name: row.name,
      connection: {
        host: row.host,
        port: row.port,
        database: row.database,
        username: row.username,
        ssl: row.ssl,
      },
      ssh_tunnel: row.ssh_tunnel
        ? {
            host: row.ssh_tunnel.host,
            port: row.ssh_tunnel.port,
            username: row.ssh_tunnel.username,
            host_key_fingerprint: row.ssh_tunnel.host_key_fingerprint,
            host_key_source: row.ssh_tunnel.host_key_source,
            key_id: row.ssh_tunnel.key_id,
            public_key: row.ssh_tunnel.public_key,
          }
        : null,
      health: targetHealth({ consumers: consumers.total, waiting: consumers.waiting }, now),
      inserted_at: row.inserted_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    };
  }
}
