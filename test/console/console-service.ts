/**
 * The service for console tests: as startTestService, but sampling lag every second so the lag chart has
 * points within a test.
 */
import pino from "pino";
import { startService } from "../../src/service.js";
import { onCleanup } from "../helpers/cleanup.js";
import { createTestStore } from "../helpers/database.js";
import { apiClient, type TestService, testConfig, testToken } from "../helpers/service.js";

export async function startConsoleService(env: Record<string, string> = {}): Promise<TestService> {
  const store = await createTestStore();
  const token = testToken();
  const config = testConfig(store.url, token, env);
  const service = await startService(config, { log: pino({ level: "silent" }), lagSampleIntervalMs: 1000 });
  onCleanup(() => service.stop());
  return { url: service.url, token, store, service, config, request: apiClient(service.url, token) };
}
