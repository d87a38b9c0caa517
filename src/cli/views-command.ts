/**
 * `sequin views generate --consumer NAME --collection C [--apply]`: the typed view of one collection of a
 * consumer's table, from the server at SEQUIN_URL. The statement goes to stdout (pipe it to psql, or keep
 * it in a migration); what was inferred goes to stderr. Exit 1 when the target refuses the view (409: a
 * missing privilege, a table of that name, a view with other columns), 2 for usage and connection errors
 * (an unknown consumer or collection included).
 */
import { Command, InvalidArgumentError } from "commander";
import { ApiRefusal } from "../api-client.js";
import { plural } from "../plural.js";
import type { GeneratedView } from "../views/index.js";
import { defaultSampleRows, maxSampleRows } from "../views/view-limits.js";
import { CommandFailure, reportErrors, UsageError } from "./exit-codes.js";
import { identifierOption } from "./identifier-option.js";
import { type ServerClient, serverClient } from "./server-client.js";

interface GenerateOptions {
  consumer: string;
  collection: string;
  apply: boolean;
  name?: string;
  sample?: number;
}

async function consumerId(server: ServerClient, name: string): Promise<string> {
  const { data } = await server.read((api) =>
    api.request<{ data: { id: string; name: string }[] }>("GET", "/v1/consumers/postgres"),
  );
  const found = data.find((c) => c.name === name);
  if (!found) {
    const known = data.map((c) => c.name).join(", ") || "none";
    throw new UsageError(`no consumer is named "${name}" on ${server.where} (consumers: ${known})`);
  }
  return found.id;
}

/** What was inferred, for a person: the view, the rows looked at, and every column with misfits. */
export function inferenceReport(view: GeneratedView): string {
  const name = `"${view.view.schema}"."${view.view.name}"`;
  const lines = [
    `${view.applied ? "created or replaced" : "generated"} view ${name}: ${plural(view.columns.length, "payload column")} inferred from ${plural(view.sampled_rows, "row")}`,
  ];
  for (const c of view.columns.filter((c) => c.sample_errors > 0)) {
    lines.push(
      `  ${c.name} (${c.source_path}) is text: ${plural(c.sample_errors, "sampled value")} did not fit the type of the others`,
    );
  }
  if (!view.applied) lines.push("run the statement in the target, or run again with --apply");
  return `${lines.join("\n")}\n`;
}

async function runGenerate(options: GenerateOptions): Promise<void> {
  if (options.name !== undefined) identifierOption(options.name, "--name");
  const server = serverClient();
  const id = await consumerId(server, options.consumer);
  let view: GeneratedView;
  try {
    view = await server.api.generateView(
      id,
      {
        collection_id: options.collection,
        ...(options.name === undefined ? {} : { name: options.name }),
        ...(options.sample === undefined ? {} : { sample: options.sample }),
      },
      options.apply,
    );
  } catch (error) {
    if (error instanceof ApiRefusal && error.status === 409) throw new CommandFailure(error.message);
    if (error instanceof ApiRefusal) throw new UsageError(error.message);
    throw error;
  }
  process.stdout.write(`${view.sql}\n`);
  process.stderr.write(inferenceReport(view));
}

function sampleOption(value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n < 1 || n > maxSampleRows) {
    throw new InvalidArgumentError(`must be a whole number of rows from 1 to ${maxSampleRows}`);
  }
  return n;
}

export function viewsCommand(): Command {
  const group = new Command("views").description("typed views of a consumer's table");
  group
    .command("generate")
    .description("infer a typed view of one collection from the rows in the consumer's table")
    .requiredOption("--consumer <name>", "the consumer's name")
    .requiredOption("--collection <id>", "the collection, e.g. contacts")
    .option("--apply", "also create or replace the view in the target, as the target's user", false)
    .option("--name <view>", "the view's name in the consumer's schema (default <table>_<collection>)")
    .option(
      "--sample <rows>",
      `rows to infer from, the newest first (default ${defaultSampleRows})`,
      sampleOption,
    )
    .addHelpText(
      "after",
      "\nPrints the create or replace view statement on stdout and what was inferred on stderr\n" +
        "(POST /v1/consumers/postgres/{id}/views; docs/views.md).\n" +
        "Exit status: 0 generated (and applied, with --apply), 1 the target refused the view, 2 usage or connection error.",
    )
    .action((options: GenerateOptions) => reportErrors(() => runGenerate(options)));
  return group;
}
