/**
 * Connecting to a target. The `ssl` setting is mapped to the driver's TLS options explicitly (pg reads
 * `sslmode=require` in a URL as verify-full, unlike libpq), and `prefer` falls back to a plain connection
 * when the server has no TLS, as libpq does.
 */
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { type ConnectionOptions, checkServerIdentity } from "node:tls";
import pg from "pg";
import { SequinError } from "../../errors.js";
import { classifyTargetError } from "./error-classification.js";
import { disableStatementTimeout, selectOne } from "./session-queries.js";

export type SslMode = "disable" | "prefer" | "require" | "verify-full";

export interface TargetConnection {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string;
  /** Default `prefer`, as libpq. */
  ssl?: SslMode;
}

/** How a connection reaches a target that is not directly reachable (an SSH tunnel: ssh-tunnel.ts). */
export interface TargetRoute {
  /** Where to connect instead of host:port. */
  via: { host: string; port: number };
  /** The socket for one attempt, so the route can tell later what happened to it. */
  stream: () => Duplex;
  /** The route's own reason for a failed connection (e.g. the bastion refused the forwarding), or `error`. */
  explain(error: unknown): unknown;
}

export interface ConnectOptions {
  /** Opens the route to the target first; its errors are thrown as they are. Overrides via and stream. */
  route?: () => Promise<TargetRoute>;
  /** Connect here (e.g. a local SSH forwarder) instead of host:port; TLS still checks `host`. */
  via?: { host: string; port: number };
  /** Supplies the socket instead (one per attempt); pg calls its `connect(port, host)`. */
  stream?: () => Duplex;
  /** Default 5000. */
  connectTimeoutMs?: number;
}

export const defaultConnectTimeoutMs = 5000;

function tlsOptions(conn: TargetConnection, verify: boolean): ConnectionOptions {
  // SNI names the real host (proxies route on it); RFC 6066 forbids an IP address there.
  const sni = isIP(conn.host) === 0 ? { servername: conn.host } : {};
  if (!verify) return { rejectUnauthorized: false, ...sni };
  // Check the certificate against the real host even when connecting through a local forwarder.
  return {
    rejectUnauthorized: true,
    ...sni,
    checkServerIdentity: (_host, cert) => checkServerIdentity(conn.host, cert),
  };
}

/** Driver settings for `conn`; with `prefer`, those of the first (TLS) attempt. */
export function targetClientConfig(conn: TargetConnection, options: ConnectOptions = {}): pg.ClientConfig {
  const mode = conn.ssl ?? "prefer";
  const config: pg.ClientConfig = {
    host: options.via?.host ?? conn.host,
    port: options.via?.port ?? conn.port,
    database: conn.database,
    user: conn.username,
    password: conn.password,
    ssl: mode === "disable" ? false : tlsOptions(conn, mode === "verify-full"),
    application_name: "sequin",
    connectionTimeoutMillis: options.connectTimeoutMs ?? defaultConnectTimeoutMs,
    keepAlive: true,
  };
  if (options.stream) config.stream = options.stream;
  return config;
}

async function open(config: pg.ClientConfig): Promise<pg.Client> {
  const client = new pg.Client(config);
  // An idle client whose server goes away emits 'error'; unheard, that would end the process. Its next
  // query fails with an error that classifyTargetError calls unreachable.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    if (error instanceof Error && error.message === "timeout expired") {
      const ms = config.connectionTimeoutMillis;
      throw new SequinError("target_unreachable", `timeout after ${ms} ms`, { cause: error });
    }
    throw error;
  }
  try {
    // A batch may take long: no server- or role-level statement_timeout applies to this session.
    await disableStatementTimeout(client);
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}

function serverHasNoTls(error: unknown): boolean {
  return error instanceof Error && error.message === "The server does not support SSL connections";
}

/** An open client; the caller ends it. */
export async function connectTarget(
  conn: TargetConnection,
  options: ConnectOptions = {},
): Promise<pg.Client> {
  const route = options.route ? await options.route() : undefined;
  const config = targetClientConfig(
    conn,
    route ? { ...options, via: route.via, stream: route.stream } : options,
  );
  try {
    try {
      return await open(config);
    } catch (error) {
      if ((conn.ssl ?? "prefer") === "prefer" && serverHasNoTls(error)) {
        return await open({ ...config, ssl: false });
      }
      throw error;
    }
  } catch (error) {
    throw route ? route.explain(error) : error;
  }
}

export interface ConnectionTestResult {
  ok: boolean;
  error?: string;
  latency_ms: number;
}

/** Connects, runs `select 1`, closes. `error` is the database's message prefixed with a plain cause. */
export async function testTargetConnection(
  conn: TargetConnection,
  options: ConnectOptions = {},
): Promise<ConnectionTestResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    const client = await connectTarget(conn, options);
    try {
      await selectOne(client);
    } finally {
      await client.end().catch(() => {});
    }
    return { ok: true, latency_ms: elapsed() };
  } catch (error) {
    return { ok: false, error: classifyTargetError(error).message, latency_ms: elapsed() };
  }
}
