/**
 * Users meet words that are ours: the setup guide in the README, the recommended least-privilege setup,
 * the example view. Never a "seed" (the name of the document this project was specified from, which no
 * user has seen), in the CLI's help, the console's pages, the docs, or any string in the source.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { test } from "node:test";
import type { Command } from "commander";
import { createProgram } from "../src/cli/program.js";
import { runSequin } from "./cli/sequin-process.js";
import { crawlConsole, signInToConsole } from "./helpers/console-crawl.js";
import { createSeedTarget } from "./helpers/consumer-world.js";
import { startTestService } from "./helpers/service.js";

const theirWord = /\bseed/i;
const root = join(import.meta.dirname, "..");

/** `where: line` for each line of `text` with the word. */
function linesWithTheWord(where: string, text: string): string[] {
  return text
    .split("\n")
    .flatMap((line, i) => (theirWord.test(line) ? [`${where}:${i + 1}: ${line.trim()}`] : []));
}

async function filesUnder(dir: string, suffix: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(suffix))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

/** Every command's help as `sequin … --help` prints it (the texts added after the usage included). */
function helpTexts(command: Command, path: string[] = []): [string, string][] {
  let out = "";
  command.configureOutput({ writeOut: (text) => (out += text), writeErr: (text) => (out += text) });
  command.outputHelp();
  const name = ["sequin", ...path, "--help"].join(" ");
  return [[name, out], ...command.commands.flatMap((sub) => helpTexts(sub, [...path, sub.name()]))];
}

test("the CLI's help, for the program and every command", async () => {
  const printed = await runSequin(["--help"]);
  assert.equal(printed.code, 0, printed.stderr);
  const helps = helpTexts(createProgram());
  assert.ok(helps.length > 8, helps.map(([name]) => name).join(", "));
  assert.equal(helps[0]![1], printed.stdout, "the help read here is the help printed");
  assert.deepEqual(
    helps.flatMap(([name, text]) => linesWithTheWord(name, text)),
    [],
  );
});

test("the README, the docs and every string in the source", async () => {
  const found: string[] = [];
  for (const file of ["README.md", ...(await filesUnder("docs", ".md"))])
    found.push(...linesWithTheWord(file, await readFile(join(root, file), "utf8")));
  // strings only: an Ed25519 key's "seed" is a variable name of the key format, not a word users read
  const strings = /"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`/g;
  for (const file of [...(await filesUnder("src", ".ts")), ...(await filesUnder("bin", ""))]) {
    const text = await readFile(join(root, file), "utf8");
    for (const match of text.matchAll(strings)) {
      const line = text.slice(0, match.index).split("\n").length;
      found.push(...linesWithTheWord(`${file}:${line}`, match[0]).map((f) => f.replace(/:\d+: /, ": ")));
    }
  }
  assert.deepEqual(found, []);
});

test("every console page, a refused form included", async () => {
  const api = await startTestService();
  const db = await createSeedTarget();
  const target = await api.request("POST", "/v1/targets/postgres", {
    body: {
      name: "app",
      connection: {
        host: db.host,
        port: db.port,
        database: db.database,
        username: db.user,
        password: db.password,
        ssl: "disable",
      },
    },
  });
  assert.equal(target.status, 201, JSON.stringify(target.body));
  const sync = await api.request("POST", "/v1/syncs", { body: { name: "crm", provider: "hubspot" } });
  const consumer = await api.request("POST", "/v1/consumers/postgres", {
    body: {
      name: "records",
      target_id: target.body.id,
      filter: { sync_id: sync.body.id },
      table: { schema: db.schema, name: "records" },
    },
  });
  assert.equal(consumer.status, 201, JSON.stringify(consumer.body));

  const cookie = await signInToConsole(api.url, api.token);
  const pages = await crawlConsole(api.url, cookie, [
    `/console/targets?added=${target.body.id}`,
    `/console/consumers/new?target_id=${target.body.id}`,
  ]);
  const refused = await fetch(`${api.url}/console/targets`, {
    method: "POST",
    headers: { cookie, origin: api.url, "hx-request": "true" },
    body: new URLSearchParams({ name: "app", "connection.host": "127.0.0.1", "connection.port": "1" }),
  });
  pages.set("console POST /console/targets (refused)", await refused.text());
  assert.ok(pages.size > 8, [...pages.keys()].join(", "));
  assert.deepEqual(
    [...pages].flatMap(([where, html]) => linesWithTheWord(where, html)),
    [],
  );
});
