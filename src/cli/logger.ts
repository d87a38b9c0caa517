/** The process's log: JSON lines on stderr (stdout is for what commands print). */
import pino, { type DestinationStream, type Logger } from "pino";
import type { Config } from "../config.js";

/** Fields that hold secrets, by the names the API, the config file and the libraries we use give them. */
const secretFields = [
  "password",
  "passphrase",
  "private_key",
  "privateKey",
  "secret",
  "token",
  "authorization",
  "cookie",
  "credentials",
  "api_key",
  "access_token",
  "refresh_token",
  "client_secret",
  '["connection.password"]',
  '["ssh_tunnel.private_key"]',
];

/** Each secret field at the top and up to three objects down (pino paths have no recursive wildcard). */
export const redactedPaths = secretFields.flatMap((field) =>
  ["", "*.", "*.*.", "*.*.*."].map((depth) => `${depth}${field}`),
);

/**
 * Nothing logs secrets on purpose: messages name what failed, never with what. The redaction is the belt
 * to those braces, for an object logged whole someday.
 */
export function createLogger(
  level: Config["logLevel"],
  destination: DestinationStream = pino.destination({ dest: 2, sync: true }),
): Logger {
  return pino(
    { level, base: { pid: process.pid }, redact: { paths: redactedPaths, remove: true } },
    destination,
  );
}
