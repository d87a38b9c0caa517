/**
 * Reading config files: YAML with line positions, `${VAR}` expansion, merge of override files in order,
 * then validation (unknown keys, types, duplicate names, dangling references). Every problem is reported
 * with its file, line, column and path; nothing is half-loaded.
 */
import { readFile } from "node:fs/promises";
import { LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigFileError, type ConfigProblem, formatPath, type Path } from "./config-file-error.js";
import type { Env } from "./interpolate.js";
import {
  expandReferences,
  isSecretPath,
  keyOrigin,
  type Located,
  LocatedBuilder,
  locate,
  type Origin,
  toPlain,
} from "./located.js";
import { duplicateNames, type EntityList, entryName, mergeLocated } from "./merge.js";
import { type ConfigFile, type CredentialRefs, configFileSchema, type SecretRefs } from "./schema.js";

export interface ConfigSource {
  /** As the user named it; problems are reported under this name. */
  file: string;
  text: string;
}

export interface LoadedConfig {
  config: ConfigFile;
  /** Where a value of the merged file is written (for problems found later, e.g. by plan). */
  origin(path: Path): Origin;
}

function problemAt(origin: Origin, message: string, path: Path = origin.path): ConfigProblem {
  return { file: origin.file, line: origin.line, column: origin.column, path: formatPath(path), message };
}

function parseSource(source: ConfigSource, problems: ConfigProblem[]): Located | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const error of doc.errors) {
      const { line, col } = lines.linePos(error.pos[0]);
      problems.push({
        file: source.file,
        line,
        column: col,
        path: "",
        message: `not valid YAML: ${error.message.split("\n")[0]}`,
      });
    }
    return undefined;
  }
  const located = new LocatedBuilder(source.file, doc, lines, problems).build();
  if (located.kind !== "map") {
    problems.push(problemAt(located.origin, "must be a mapping with syncs, targets and consumers"));
    return undefined;
  }
  problems.push(...duplicateNames(located));
  return located;
}

function describe(value: unknown): string {
  if (value === null) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value === "string" ? "the text" : `the ${typeof value}`} ${JSON.stringify(value)}`;
}

function issueMessage(issue: z.core.$ZodIssue, node: Located): string {
  if (issue.code !== "invalid_type") return issue.message;
  const expected =
    issue.expected === "array" ? "a list" : issue.expected === "object" ? "a mapping" : `a ${issue.expected}`;
  // never echo a secret
  const found = isSecretPath(node.origin.path) ? "" : ` (found ${describe(toPlain(node))})`;
  return `must be ${expected}${found}`;
}

function issueProblems(root: Located, issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = issue.path as Path;
  const { node, rest } = locate(root, path);
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => {
      const origin = keyOrigin(node, key) ?? node.origin;
      return problemAt(origin, `unknown key ${JSON.stringify(key)}`, [...node.origin.path, key]);
    });
  }
  if (rest.length > 0) {
    const message = issue.code === "invalid_type" ? "is required" : issue.message;
    return [problemAt(node.origin, message, [...node.origin.path, ...rest])];
  }
  // already reported as it was read (an unset variable, an inline secret)
  if (node.kind === "scalar" && node.invalid) return [];
  return [problemAt(node.origin, issueMessage(issue, node))];
}

function namesIn(root: Located, list: EntityList): Set<string> {
  const node = locate(root, [list]);
  if (node.rest.length > 0 || node.node.kind !== "seq") return new Set();
  return new Set(node.node.items.map(entryName).filter((n): n is string => n !== undefined));
}

/** Consumers name targets and syncs of the file(s): a name that is not there is reported at its line. */
function danglingReferences(root: Located): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const consumers = locate(root, ["consumers"]);
  if (consumers.rest.length > 0 || consumers.node.kind !== "seq") return [];
  const check = (node: Located, kind: "target" | "sync", names: Set<string>) => {
    if (node.kind !== "scalar" || typeof node.value !== "string" || names.has(node.value)) return;
    const known = names.size > 0 ? [...names].join(", ") : "none";
    problems.push(
      problemAt(
        node.origin,
        `no ${kind} named ${JSON.stringify(node.value)} in the file (${kind}s: ${known})`,
      ),
    );
  };
  const targets = namesIn(root, "targets");
  const syncs = namesIn(root, "syncs");
  consumers.node.items.forEach((_, i) => {
    const target = locate(root, ["consumers", i, "target"]);
    if (target.rest.length === 0) check(target.node, "target", targets);
    const sync = locate(root, ["consumers", i, "filter", "sync"]);
    if (sync.rest.length === 0) check(sync.node, "sync", syncs);
  });
  return problems;
}

function secretRefsOf(root: Located, config: ConfigFile): Map<string, SecretRefs> {
  const refs = new Map<string, SecretRefs>();
  const refAt = (path: Path) => {
    const { node, rest } = locate(root, path);
    return rest.length === 0 && node.kind === "scalar" ? node.secretRef : undefined;
  };
  config.targets.forEach((target, i) => {
    const password = refAt(["targets", i, "postgres", "password"]) ?? "";
    const entry: SecretRefs = { password };
    const key = refAt(["targets", i, "ssh_tunnel", "private_key"]);
    const passphrase = refAt(["targets", i, "ssh_tunnel", "passphrase"]);
    if (key) entry.private_key = key;
    if (passphrase) entry.passphrase = passphrase;
    refs.set(target.name, entry);
  });
  return refs;
}

/** The variables a sync source's credential fields are read from (nested fields dotted). */
function credentialRefsOf(root: Located, config: ConfigFile): Map<string, CredentialRefs> {
  const refs = new Map<string, CredentialRefs>();
  const collect = (node: Located, prefix: string, into: CredentialRefs) => {
    if (node.kind === "scalar") {
      if (node.secretRef) into[prefix] = node.secretRef;
    } else if (node.kind === "map") {
      for (const [key, entry] of node.entries) collect(entry.node, prefix ? `${prefix}.${key}` : key, into);
    } else {
      node.items.forEach((item, i) => {
        collect(item, `${prefix}[${i}]`, into);
      });
    }
  };
  config.syncs.forEach((sync, i) => {
    if (!sync.source) return;
    const { node, rest } = locate(root, ["syncs", i, "source", "credentials"]);
    const into: CredentialRefs = {};
    if (rest.length === 0) collect(node, "", into);
    refs.set(sync.name, into);
  });
  return refs;
}

const emptyFile: Located = {
  kind: "map",
  entries: new Map(),
  origin: { file: "", line: 0, column: 0, path: [] },
};

/** Parses, merges (later sources override earlier ones) and validates; throws ConfigFileError. */
export function parseConfigSources(sources: ConfigSource[], env: Env): LoadedConfig {
  const problems: ConfigProblem[] = [];
  const parsed = sources.map((source) => parseSource(source, problems));
  if (parsed.some((p) => p === undefined)) throw new ConfigFileError(problems);
  const files = parsed as Located[];
  const merged = files.length === 0 ? emptyFile : files.reduce((into, next) => mergeLocated(into, next));
  const root = expandReferences(merged, env, problems);
  const result = configFileSchema.safeParse(toPlain(root));
  if (!result.success) problems.push(...result.error.issues.flatMap((issue) => issueProblems(root, issue)));
  problems.push(...danglingReferences(root));
  if (!result.success || problems.length > 0) throw new ConfigFileError(problems);
  const config: ConfigFile = {
    syncs: result.data.syncs ?? [],
    targets: result.data.targets ?? [],
    consumers: result.data.consumers ?? [],
    secretRefs: new Map(),
    credentialRefs: new Map(),
  };
  config.secretRefs = secretRefsOf(root, config);
  config.credentialRefs = credentialRefsOf(root, config);
  return { config, origin: (path) => locate(root, path).node.origin };
}

/** Reads the files in order; one that cannot be read is a ConfigFileError naming it. */
export async function loadConfigFiles(files: string[], env: Env): Promise<LoadedConfig> {
  const problems: ConfigProblem[] = [];
  const sources: ConfigSource[] = [];
  for (const file of files) {
    try {
      sources.push({ file, text: await readFile(file, "utf8") });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === "ENOENT" ? "no such file" : (error as Error).message;
      problems.push({ file, line: 0, column: 0, path: "", message: `cannot read the file: ${reason}` });
    }
  }
  if (problems.length > 0) throw new ConfigFileError(problems);
  return parseConfigSources(sources, env);
}
