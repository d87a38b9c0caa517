/**
 * The module map of docs/architecture.md holds: no folder of src/ depends, through any chain of imports,
 * on a folder that depends on it (no cycles between folders). And the CLI starts light: what every command
 * loads at start-up leaves out the service and the config file's schemas, which a command loads when it runs.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative, sep } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const src = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

/** The folder (or top-level module) of src/ a path belongs to. */
function unitOf(path: string): string {
  const parts = relative(src, path).split(sep);
  return parts.length > 1 ? parts[0]! : parts[0]!.replace(/\.(ts|js)$/, "");
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const file of sourceFiles(src)) {
    const from = unitOf(file);
    const edges = graph.get(from) ?? new Set<string>();
    graph.set(from, edges);
    for (const [, spec] of readFileSync(file, "utf8").matchAll(/from "(\.[^"]+)"/g)) {
      const to = unitOf(normalize(join(dirname(file), spec!)));
      if (to !== from) edges.add(to);
    }
  }
  return graph;
}

function cycles(graph: Map<string, Set<string>>): string[] {
  const found: string[] = [];
  const state = new Map<string, "open" | "done">();
  const visit = (node: string, path: string[]) => {
    state.set(node, "open");
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") found.push([...path.slice(path.indexOf(next)), next].join(" → "));
      else if (!state.has(next)) visit(next, [...path, next]);
    }
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node, [node]);
  return found;
}

test("no folder of src/ depends on itself through other folders", () => {
  const graph = folderGraph();
  assert.ok(graph.size > 10, "the source tree was read");
  assert.deepEqual(cycles(graph), []);
});

test("the lowest layers import nothing above them", () => {
  const graph = folderGraph();
  const allowed: Record<string, string[]> = {
    db: ["config", "errors"],
    runtime: [],
    work: ["db", "runtime"],
  };
  for (const [folder, may] of Object.entries(allowed)) {
    const extra = [...(graph.get(folder) ?? [])].filter((to) => !may.includes(to));
    assert.deepEqual(extra, [], `src/${folder} imports ${extra.join(", ")}`);
  }
});

/**
 * The modules a file loads before any of its code runs: static imports, followed through, without `import
 * type` (erased) and dynamic `import()` (loaded when called).
 */
function startupClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const [, clause, spec] of text.matchAll(/^import (type )?[^;]*? from "(\.[^"]+)";/gms)) {
      if (clause) continue;
      visit(normalize(join(dirname(file), spec!.replace(/\.js$/, ".ts"))));
    }
  };
  visit(entry);
  return seen;
}

test("every CLI command starts without loading the service or the config file's schemas", () => {
  const loaded = [...startupClosure(join(src, "cli", "main.ts"))].map((file) => relative(src, file));
  assert.ok(loaded.includes(join("cli", "program.ts")), "the CLI's modules were read");
  const heavy = [
    "service.ts",
    join("config-file", "load.ts"),
    join("config-file", "schema.ts"),
    join("api", "server.ts"),
  ];
  assert.deepEqual(
    loaded.filter((file) => heavy.includes(file)),
    [],
    "load these in the command's action (await import) instead",
  );
});
