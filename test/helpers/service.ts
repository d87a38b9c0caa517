/**
 * The service started in-process on a test store of its own (port 0, a known token), stopped after the
 * file's tests, with a small JSON client for its API.
 */
import { randomBytes } from "node:crypto";
import pino, { type Logger } from "pino";
import { type Config, loadConfig } from "../../src/config.js";
import { type RunningService, startService } from "../../src/service.js";
import { onCleanup } from "./cleanup.js";
import { createTestStore, type TestStore } from "./database.js";

export interface ApiResponse {
  status: number;
  headers: Headers;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
  body: any;
}

export interface RequestOptions {
  body?: unknown;
  /** Raw body text, sent as JSON content. */
  rawBody?: string;
  /** The bearer token; the service's own by default, `null` for none. */
  token?: string | null;
  headers?: Record<string, string>;
}

export interface TestService {
  url: string;
  token: string;
  store: TestStore;
  service: RunningService;
  config: Config;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
}

export function testToken(): string {
  return `test_${randomBytes(16).toString("hex")}`;
}

export function apiClient(url: string, defaultToken: string | undefined) {
  return async (method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...options.headers };
    const token = options.token === undefined ? defaultToken : options.token;
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.rawBody !== undefined) body = options.rawBody;
    else if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers["content-type"] ??= "application/json";
    const response = await fetch(`${url}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    if (text && (response.headers.get("content-type") ?? "").includes("json")) parsed = JSON.parse(text);
    return { status: response.status, headers: response.headers, body: parsed };
  };
}

/**
 * Config for a service on `storeUrl`, on a free port, with a known token, a vault key of its own (nothing
 * written to the working directory) and no logs.
 */
export function testConfig(storeUrl: string, token: string, env: Record<string, string> = {}): Config {
  return loadConfig({
    SEQUIN_DATABASE_URL: storeUrl,
    SEQUIN_HOST: "127.0.0.1",
    SEQUIN_PORT: "0",
    SEQUIN_API_TOKEN: token,
    SEQUIN_VAULT_KEY: randomBytes(32).toString("base64"),
    SEQUIN_LOG_LEVEL: "silent",
    ...env,
  });
}

/**
 * Starts the service on a store of its own. It stops before the store's database is dropped, and before
 * anything the test sets up later is torn down (cleanups run last registered, first).
 */
export async function startTestService(
  env: Record<string, string> = {},
  options: { log?: Logger } = {},
): Promise<TestService> {
  const store = await createTestStore();
  const token = testToken();
  const config = testConfig(store.url, token, env);
  const service = await startService(config, { log: options.log ?? pino({ level: "silent" }) });
  onCleanup(() => service.stop());
  return { url: service.url, token, store, service, config, request: apiClient(service.url, token) };
}
