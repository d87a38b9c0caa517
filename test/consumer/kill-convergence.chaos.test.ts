import { test } from "node:test";
import { killScenario } from "../helpers/kill-scenario.js";

const runs = Number(process.env.SEQUIN_CHAOS_RUNS ?? 200);

test(`the table converges to the stream after ${runs} kill -9s of the worker`, async () => {
  await killScenario(runs);
});
