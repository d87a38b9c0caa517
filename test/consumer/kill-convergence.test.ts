import { test } from "node:test";
import { killScenario } from "../helpers/kill-scenario.js";

test("the table converges to the stream after 20 kill -9s of the worker during backfill and live ingest", async () => {
  await killScenario(20);
});
