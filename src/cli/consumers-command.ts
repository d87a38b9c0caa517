/**
 * `sequin consumers backfill NAME [--wait]` and `sequin consumers retry NAME`: the consumer actions a user
 * needs from a shell, on the server at SEQUIN_URL. Exit 1 when the server refuses the action for the
 * consumer's state (409: e.g. retry on a live consumer), 2 for usage and connection errors (an unknown
 * consumer name included).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Command } from "commander";
import { ApiRefusal } from "../api-client.js";
import { plural } from "../plural.js";
import { CommandFailure, reportErrors, UsageError } from "./exit-codes.js";
import { type ServerClient, serverClient } from "./server-client.js";

interface ConsumerSummary {
  id: string;
  name: string;
  state: string;
  backfill: {
    total: number;
    done: number;
    progress: number;
    kind: string;
    reason?: string;
    finished_at?: string | null;
    deleted?: number;
  } | null;
  last_error: { message: string } | null;
}

async function consumerNamed(server: ServerClient, name: string): Promise<ConsumerSummary> {
  const { data } = await server.read((api) =>
    api.request<{ data: ConsumerSummary[] }>("GET", "/v1/consumers/postgres"),
  );
  const found = data.find((c) => c.name === name);
  if (!found) {
    const known = data.map((c) => c.name).join(", ") || "none";
    throw new UsageError(`no consumer is named "${name}" on ${server.where} (consumers: ${known})`);
  }
  return found;
}

/** Posts an action; a 409 (not possible in the consumer's state) is the command's negative outcome. */
async function act(
  server: ServerClient,
  consumer: ConsumerSummary,
  action: string,
): Promise<ConsumerSummary> {
  try {
    return await server.api.request<ConsumerSummary>(
      "POST",
      `/v1/consumers/postgres/${consumer.id}/${action}`,
    );
  } catch (error) {
    if (error instanceof ApiRefusal && error.status === 409) throw new CommandFailure(error.message);
    throw error;
  }
}

async function runBackfill(name: string, options: { wait: boolean }): Promise<void> {
  const server = serverClient();
  const consumer = await consumerNamed(server, name);
  const started = await act(server, consumer, "backfill");
  const total = started.backfill?.total ?? 0;
  process.stdout.write(
    `consumer "${name}": rewriting its table from the stream (${plural(total, "record")}); live changes keep flowing\n`,
  );
  if (!options.wait) {
    process.stdout.write("follow it with `sequin status`, or run again with --wait\n");
    return;
  }
  for (;;) {
    await sleep(1000);
    const now = await consumerNamed(server, name);
    const backfill = now.backfill;
    if (backfill?.kind !== "rewrite")
      throw new CommandFailure(`consumer "${name}" is no longer rewriting its table`);
    if (backfill.finished_at) {
      process.stdout.write(
        `done: ${plural(backfill.total, "record")} written again, ${plural(backfill.deleted ?? 0, "row")} no longer in the stream deleted\n`,
      );
      return;
    }
    process.stderr.write(
      `  ${backfill.done} / ${backfill.total} (${Math.round(backfill.progress * 100)}%), state ${now.state}\n`,
    );
  }
}

async function runRetry(name: string): Promise<void> {
  const server = serverClient();
  const consumer = await consumerNamed(server, name);
  await act(server, consumer, "retry");
  process.stdout.write(
    `consumer "${name}" (${consumer.state.replace(/_/g, " ")}) retries now${
      consumer.last_error ? `; it failed with: ${consumer.last_error.message}` : ""
    }\nfollow it with \`sequin status\`\n`,
  );
}

export function consumersCommand(): Command {
  const group = new Command("consumers").description("act on a consumer of a running server");
  group
    .command("backfill")
    .description("rewrite the consumer's table from the stream while live changes keep flowing")
    .argument("<name>", "the consumer's name")
    .option("--wait", "wait until the rewrite is done, printing its progress", false)
    .addHelpText(
      "after",
      "\nEvery record is written again and rows no longer in the stream are deleted (POST …/backfill).\n" +
        "Exit status: 0 started (or done, with --wait), 1 refused in the consumer's state, 2 usage or connection error.",
    )
    .action((name: string, options: { wait: boolean }) => reportErrors(() => runBackfill(name, options)));
  group
    .command("retry")
    .description("retry a failing consumer's write, or probe the target of a waiting one, now")
    .argument("<name>", "the consumer's name")
    .addHelpText(
      "after",
      "\nWithout it the consumer retries by itself after its backoff (up to 60 s; probes up to 30 s).\n" +
        "Exit status: 0 retrying, 1 nothing to retry (the consumer is not failing or waiting), 2 usage or connection error.",
    )
    .action((name: string) => reportErrors(() => runRetry(name)));
  return group;
}
