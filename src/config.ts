/**
 * The service's settings, read from the environment once in `main` by `loadConfig(env)`. Every rule is
 * checked here so that a bad value fails at start with the variable's name, the rule and the value seen.
 */
import { isAbsolute, resolve } from "node:path";
import { SequinError } from "./errors.js";

export interface Config {
  databaseUrl: string | undefined;
  dataDir: string;
  host: string;
  port: number;
  apiToken: string | undefined;
  vaultKey: Buffer | undefined;
  /**
   * The server client commands (`status`, `config …`) talk to: SEQUIN_URL, or else where SEQUIN_HOST and
   * SEQUIN_PORT make `sequin start` listen; undefined when that is SEQUIN_PORT=0 (any free port).
   */
  url: string | undefined;
  /** Whether `url` is SEQUIN_URL (messages name the variable to check). */
  urlFromEnv: boolean;
  lagAlertSeconds: number;
  smtpUrl: string | undefined;
  alertEmailFrom: string | undefined;
  alertEmailTo: string[];
  alertWebhookUrl: string | undefined;
  alertWebhookSecret: string | undefined;
  metricsToken: string | undefined;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /**
   * How long a worker's heartbeat keeps its leases: how soon the consumers of a dead or frozen worker move.
   */
  leaseSeconds: number;
  /** What this process does: everything, the API and console only, or running consumers only. */
  role: Role;
  /** A consumer's new health status must hold this long before it is alerted (no storms from flapping). */
  alertSettleSeconds: number;
}

export const defaults = {
  dataDir: "./.sequin",
  host: "127.0.0.1",
  port: 7376,
  lagAlertSeconds: 300,
  logLevel: "info",
  leaseSeconds: 15,
  alertSettleSeconds: 10,
  role: "all",
} as const;

export const roles = ["all", "api", "worker"] as const;
export type Role = (typeof roles)[number];

const logLevels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

type Env = Record<string, string | undefined>;

class EnvProblems {
  readonly list: string[] = [];
  add(name: string, rule: string, value: string): void {
    this.list.push(`${name} ${rule} (got ${JSON.stringify(value)})`);
  }
}

function optional(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/**
 * A URL as an error may show it: a password in it becomes ***. Up to the last `@`, since a URL refused as
 * invalid may hold a password with unencoded `@` or `/`.
 */
function withoutPassword(value: string): string {
  return value.replace(/^([a-z][\w+.-]*:\/\/[^:/?#@]*:).*@/i, "$1***@");
}

function parseUrl(env: Env, name: string, protocols: string[], problems: EnvProblems): string | undefined {
  const value = optional(env, name);
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (!protocols.includes(url.protocol)) {
      problems.add(
        name,
        `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
        withoutPassword(value),
      );
      return undefined;
    }
    return value;
  } catch {
    problems.add(name, "must be a valid URL", withoutPassword(value));
    return undefined;
  }
}

function parseInteger(
  env: Env,
  name: string,
  min: number,
  max: number,
  fallback: number,
  problems: EnvProblems,
) {
  const value = optional(env, name);
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    problems.add(name, `must be a whole number from ${min} to ${max}`, value);
    return fallback;
  }
  return Number(value);
}

export function parseVaultKey(value: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  const key = Buffer.from(value, "base64");
  return key.length === 32 ? key : undefined;
}

/** Where a server listening on `host`:`port` is reached from this machine (any address: by 127.0.0.1). */
function localUrl(host: string, port: number): string {
  if (host === "0.0.0.0" || host === "::") return `http://127.0.0.1:${port}`;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export function loadConfig(env: Env = process.env, cwd: string = process.cwd()): Config {
  const problems = new EnvProblems();

  const databaseUrl = parseUrl(env, "SEQUIN_DATABASE_URL", ["postgres:", "postgresql:"], problems);
  const dataDirRaw = optional(env, "SEQUIN_DATA_DIR") ?? defaults.dataDir;
  const dataDir = isAbsolute(dataDirRaw) ? dataDirRaw : resolve(cwd, dataDirRaw);

  const host = optional(env, "SEQUIN_HOST") ?? defaults.host;
  if (!/^[A-Za-z0-9.:-]+$/.test(host)) problems.add("SEQUIN_HOST", "must be a host name or IP address", host);
  const port = parseInteger(env, "SEQUIN_PORT", 0, 65535, defaults.port, problems);

  const apiToken = optional(env, "SEQUIN_API_TOKEN");
  if (apiToken !== undefined && apiToken.length < 16) {
    problems.add("SEQUIN_API_TOKEN", "must be at least 16 characters", "<hidden>");
  }

  let vaultKey: Buffer | undefined;
  const vaultKeyRaw = optional(env, "SEQUIN_VAULT_KEY");
  if (vaultKeyRaw !== undefined) {
    vaultKey = parseVaultKey(vaultKeyRaw);
    if (!vaultKey)
      problems.add("SEQUIN_VAULT_KEY", "must be 32 bytes encoded as base64 (44 characters)", "<hidden>");
  }

  const urlFromEnv = parseUrl(env, "SEQUIN_URL", ["http:", "https:"], problems);
  const url = urlFromEnv ?? (port === 0 ? undefined : localUrl(host, port));
  const lagAlertSeconds = parseInteger(
    env,
    "SEQUIN_LAG_ALERT_SECONDS",
    1,
    30 * 24 * 3600,
    defaults.lagAlertSeconds,
    problems,
  );
  const smtpUrl = parseUrl(env, "SEQUIN_SMTP_URL", ["smtp:", "smtps:"], problems);

  const alertEmailFrom = optional(env, "SEQUIN_ALERT_EMAIL_FROM");
  const emailPattern = /^[^\s@,]+@[^\s@,]+$/;
  if (alertEmailFrom !== undefined && !emailPattern.test(alertEmailFrom)) {
    problems.add("SEQUIN_ALERT_EMAIL_FROM", "must be an email address", alertEmailFrom);
  }
  const alertEmailToRaw = optional(env, "SEQUIN_ALERT_EMAIL_TO");
  const alertEmailTo = alertEmailToRaw ? alertEmailToRaw.split(",").map((s) => s.trim()) : [];
  for (const address of alertEmailTo) {
    if (!emailPattern.test(address)) {
      problems.add(
        "SEQUIN_ALERT_EMAIL_TO",
        "must be a comma-separated list of email addresses",
        alertEmailToRaw!,
      );
      break;
    }
  }
  if (smtpUrl && (alertEmailTo.length === 0 || !alertEmailFrom)) {
    problems.add(
      "SEQUIN_SMTP_URL",
      "needs SEQUIN_ALERT_EMAIL_FROM and SEQUIN_ALERT_EMAIL_TO to be set too",
      withoutPassword(smtpUrl),
    );
  }

  const alertWebhookUrl = parseUrl(env, "SEQUIN_ALERT_WEBHOOK_URL", ["http:", "https:"], problems);
  const alertWebhookSecret = optional(env, "SEQUIN_ALERT_WEBHOOK_SECRET");
  const metricsToken = optional(env, "SEQUIN_METRICS_TOKEN");

  const logLevelRaw = optional(env, "SEQUIN_LOG_LEVEL") ?? defaults.logLevel;
  const logLevelValid = (logLevels as readonly string[]).includes(logLevelRaw);
  if (!logLevelValid) problems.add("SEQUIN_LOG_LEVEL", `must be one of ${logLevels.join(", ")}`, logLevelRaw);
  const logLevel = logLevelValid ? (logLevelRaw as Config["logLevel"]) : "info";

  const leaseSeconds = parseInteger(env, "SEQUIN_LEASE_SECONDS", 1, 3600, defaults.leaseSeconds, problems);

  const roleRaw = optional(env, "SEQUIN_ROLE") ?? defaults.role;
  const roleValid = (roles as readonly string[]).includes(roleRaw);
  if (!roleValid) problems.add("SEQUIN_ROLE", `must be one of ${roles.join(", ")}`, roleRaw);
  const role = roleValid ? (roleRaw as Role) : defaults.role;

  const alertSettleSeconds = parseInteger(
    env,
    "SEQUIN_ALERT_SETTLE_SECONDS",
    0,
    3600,
    defaults.alertSettleSeconds,
    problems,
  );

  if (problems.list.length > 0) {
    throw new SequinError("config_invalid", `invalid environment:\n  ${problems.list.join("\n  ")}`);
  }

  return {
    databaseUrl,
    dataDir,
    host,
    port,
    apiToken,
    vaultKey,
    url,
    urlFromEnv: urlFromEnv !== undefined,
    lagAlertSeconds,
    smtpUrl,
    alertEmailFrom,
    alertEmailTo,
    alertWebhookUrl,
    alertWebhookSecret,
    metricsToken,
    logLevel,
    leaseSeconds,
    role,
    alertSettleSeconds,
  };
}
