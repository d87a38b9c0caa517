/**
 * Writes test/emulators/github/openapi-schemas.json: the 200 `application/json` answer schemas, from GitHub's
 * own OpenAPI description, of the GET operations github-emulator.test.ts validates the emulator against.
 * The package that carries the description installs hundreds of megabytes (every GHES version) for these few
 * schemas, so it is fetched into a temporary folder only when the fixture is rebuilt:
 * `npm run fixtures:github-openapi`.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The operations the test checks (`schemaOf(...)` in test/emulators/github-emulator.test.ts). */
const PATHS = [
  "/repos/{owner}/{repo}",
  "/repos/{owner}/{repo}/issues",
  "/repos/{owner}/{repo}/issues/comments",
  "/repos/{owner}/{repo}/issues/{issue_number}",
  "/repos/{owner}/{repo}/pulls",
];
const PACKAGE = "@octokit/openapi@23.0.2";
const DESCRIPTION = "package/generated/api.github.com.deref.json";
/** Prose and samples: validation ignores them, and they are half the bytes. */
const DROPPED = new Set(["description", "example", "examples"]);
const SOURCE =
  "@octokit/openapi 23.0.2, generated/api.github.com.deref.json: each path's GET 200 application/json " +
  "schema, without its description, example and examples keys (validation ignores them)";
const OUT = fileURLToPath(new URL("../test/emulators/github/openapi-schemas.json", import.meta.url));
/** biome.json's lineWidth: the file is written as `biome format` would leave it. */
const LINE_WIDTH = 110;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "github-openapi-"));
try {
  const packed = JSON.parse(
    execFileSync("npm", ["pack", PACKAGE, "--json", "--pack-destination", dir], { encoding: "utf8" }),
  );
  execFileSync("tar", ["-xzf", path.join(dir, packed[0].filename), "-C", dir, DESCRIPTION]);
  const spec = JSON.parse(fs.readFileSync(path.join(dir, DESCRIPTION), "utf8"));

  const schemas = {};
  for (const p of PATHS) {
    const schema = spec.paths[p]?.get?.responses?.["200"]?.content?.["application/json"]?.schema;
    if (!schema) throw new Error(`${PACKAGE}: no 200 application/json schema for GET ${p}`);
    schemas[p] = strip(schema);
  }
  const fixture = {
    source: SOURCE,
    schemas,
  };
  const text = `${format(fixture, "", "", false)}\n`;
  fs.writeFileSync(OUT, text);
  console.log(`wrote ${path.relative(process.cwd(), OUT)}: ${PATHS.length} schemas, ${text.length} bytes`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** A schema without DROPPED keys; names inside `properties` are field names (a field may be `description`). */
function strip(node, names = false) {
  if (Array.isArray(node)) return node.map((item) => strip(item));
  if (typeof node !== "object" || node === null) return node;
  const kept = {};
  for (const [key, value] of Object.entries(node)) {
    if (!names && DROPPED.has(key)) continue;
    kept[key] = strip(value, !names && (key === "properties" || key === "patternProperties"));
  }
  return kept;
}

/**
 * JSON in biome's layout, so the check passes on a freshly written file: objects one key a line, arrays
 * of plain values on one line when that fits.
 */
function format(value, indent, prefix, comma) {
  if (typeof value !== "object" || value === null) return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (value.every((item) => typeof item !== "object" || item === null)) {
      const flat = `[${value.map((item) => JSON.stringify(item)).join(", ")}]`;
      if (indent.length + prefix.length + flat.length + (comma ? 1 : 0) <= LINE_WIDTH) return flat;
    }
    const lines = value.map((item, i) => `${inner}${format(item, inner, "", i < value.length - 1)}`);
    return `[\n${lines.join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  const lines = entries.map(([key, item], i) => {
    const head = `${JSON.stringify(key)}: `;
    return `${inner}${head}${format(item, inner, head, i < entries.length - 1)}`;
  });
  return `{\n${lines.join(",\n")}\n${indent}}`;
}
