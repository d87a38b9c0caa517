/**
 * The running server that client commands (`status`, `config …`) talk to through the one API client
 * (src/api-client.ts): SEQUIN_URL (or else where SEQUIN_HOST and SEQUIN_PORT make `sequin start` listen)
 * with SEQUIN_API_TOKEN.
 * Every way of not getting an answer (no token, no server, a refused token, an error answer to a read) is
 * a usage, configuration or connection error: exit 2, with a message that names what to check.
 */

import { ApiClient, ApiRefusal } from "../api-client.js";
import { type Config, loadConfig } from "../config.js";
import { SequinError } from "../errors.js";
import { UsageError } from "./exit-codes.js";

export class ServerClient {
  constructor(readonly api: ApiClient) {}

  /** How messages name the server, e.g. `the server at SEQUIN_URL=http://…`. */
  get where(): string {
    return this.api.where;
  }

  /** Reads from the server; an error answer becomes a UsageError naming the server and the status. */
  async read<T>(read: (api: ApiClient) => Promise<T>): Promise<T> {
    try {
      return await read(this.api);
    } catch (error) {
      if (!(error instanceof ApiRefusal)) throw error;
      throw new UsageError(`${this.where} answered HTTP ${error.status}: ${error.message}`);
    }
  }
}

/** The environment as client commands read it; an invalid value is a UsageError naming the variable. */
export function clientConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (error instanceof SequinError && error.code === "config_invalid") throw new UsageError(error.message);
    throw error;
  }
}

export function serverClient(config: Config = clientConfig()): ServerClient {
  if (config.url === undefined) {
    throw new UsageError(
      "SEQUIN_URL is not set and SEQUIN_PORT=0 (any free port) does not say where the server listens: set SEQUIN_URL to the address `sequin start` printed after `listening on`",
    );
  }
  const where = config.urlFromEnv
    ? `the server at SEQUIN_URL=${config.url}`
    : `the server at ${config.url} (SEQUIN_URL is not set: where SEQUIN_HOST and SEQUIN_PORT make \`sequin start\` listen)`;
  if (!config.apiToken) {
    throw new UsageError(
      `SEQUIN_API_TOKEN is not set: set it to an API token of ${where} (printed at its first start; \`sequin token create\` makes a new one)`,
    );
  }
  return new ServerClient(new ApiClient(config.url, config.apiToken, where));
}
