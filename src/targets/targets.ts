/**
 * Registered Postgres targets: the user's databases. A connection is tried before it is saved, and refused
 * with the database's own reason. Passwords are encrypted with the vault and never leave this module
 * except inside a connection to the target.
 */
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { conflict, notFound, SequinError } from "../errors.js";
import type { Vault } from "../vault/index.js";
import {
  type ConnectionTestResult,
  connectTarget,
  type TargetConnection,
  testTargetConnection,
} from "./postgres/index.js";
import {
  countConsumersOfTarget,
  deleteTargetRow,
  insertTarget,
  selectTarget,
  selectTargets,
  type TargetRow,
  updateTargetRow,
} from "./target-queries.js";
import type { NewTarget, TargetPatch, TargetView } from "./target-schemas.js";

export class Targets {
  constructor(
    private readonly pool: pg.Pool,
    private readonly vault: Vault,
  ) {}

  async create(input: NewTarget): Promise<TargetView> {
    const connection = { ssl: "prefer" as const, ...input.connection };
    await this.refuseUnreachable(connection);
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
      });
      return this.view(row);
    } catch (error) {
      throw uniqueName(error, input.name);
    }
  }

  async list(): Promise<TargetView[]> {
    return Promise.all((await selectTargets(this.pool)).map((row) => this.view(row)));
  }

  async get(id: string): Promise<TargetView> {
    return this.view(await this.row(id));
  }

  /** A changed connection is tried before it is saved; the password stays unless a new one is given. */
  async update(id: string, patch: TargetPatch): Promise<TargetView> {
    const row = await this.row(id);
    const connection: Required<TargetConnection> = { ...this.connectionOf(row), ...patch.connection };
    if (patch.connection) await this.refuseUnreachable(connection);
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
      });
      if (!updated) throw notFound("target", id);
      return this.view(updated);
    } catch (error) {
      throw uniqueName(error, patch.name ?? row.name);
    }
  }

  async delete(id: string): Promise<void> {
    const { total } = await countConsumersOfTarget(this.pool, id);
    if (total > 0) throw conflict(`target ${id} has ${total} consumer(s): delete them first`);
    if (!(await deleteTargetRow(this.pool, id))) throw notFound("target", id);
  }

  async test(id: string): Promise<ConnectionTestResult> {
    return testTargetConnection(this.connectionOf(await this.row(id)));
  }

  /** An open connection to the target, as its registered user. The caller ends it. */
  async connect(id: string): Promise<pg.Client> {
    return connectTarget(this.connectionOf(await this.row(id)));
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

  private async refuseUnreachable(connection: TargetConnection): Promise<void> {
    const result = await testTargetConnection(connection);
    if (!result.ok) {
      throw new SequinError(
        "target_unreachable",
        `cannot connect to ${connection.host}:${connection.port}: ${result.error}`,
      );
    }
  }

  private async row(id: string): Promise<TargetRow> {
    const row = await selectTarget(this.pool, id);
    if (!row) throw notFound("target", id);
    return row;
  }

  private async view(row: TargetRow): Promise<TargetView> {
    const consumers = await countConsumersOfTarget(this.pool, row.id);
    const unreachable = consumers.waiting > 0;
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
      health: {
        status: unreachable ? "unhealthy" : "healthy",
        notes: unreachable
          ? [`${consumers.waiting} consumer(s) are waiting for this target to be reachable again.`]
          : [],
        checks: [{ name: "reachable", status: unreachable ? "unhealthy" : "healthy" }],
        time: new Date().toISOString(),
      },
      inserted_at: row.inserted_at.toISOString(),
      updated_at: row.updated_at.toISOString(),
    };
  }
}

function uniqueName(error: unknown, name: string): unknown {
  if ((error as { code?: string }).code === "23505") {
    return conflict(`a target named ${JSON.stringify(name)} already exists: target names are unique`);
  }
  return error;
}
