/** The service's own store down for 3 minutes under ingest (see store-outage.test.ts). */
import { test } from "node:test";
import { storeOutageScenario } from "../helpers/store-outage.js";

test("the store down for 3 minutes under ingest: 503s, then the consumer resumes and converges", async () => {
  await storeOutageScenario(180_000);
});
