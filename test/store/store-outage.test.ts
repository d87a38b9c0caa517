/**
 * The service's own store stopped for 30 s under ingest while a consumer runs live: the API answers 503
 * store_unavailable promptly, the process stays up, and the consumer resumes by itself within seconds of
 * the store's return, with its table equal to the stream. (`npm run chaos` runs a 3-minute outage.)
 */
import { test } from "node:test";
import { storeOutageScenario } from "../helpers/store-outage.js";

test("the store down for 30 s under ingest: 503s, then the consumer resumes and converges", async () => {
  await storeOutageScenario(30_000);
});
