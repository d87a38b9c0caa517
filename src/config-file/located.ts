/**
 * A config file's values with where each came from (file, line, column, its path in that file), so that
 * problems found after merging several files and validating them still point at the right line. Built
 * from a parsed YAML document (secrets are checked to be references there, in every file); `${VAR}`
 * references are expanded after merging, so a value an override replaces needs no variable.
 */
import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  Scalar,
} from "yaml";
import { isSecretCredential } from "../sources/index.js";
import type { ConfigProblem, Path } from "./config-file-error.js";
import { formatPath } from "./config-file-error.js";
import { variablePrefix } from "./export.js";
import { type Env, interpolate, isWholeReference, secretReference, typedValue } from "./interpolate.js";

export interface Origin {
  file: string;
  line: number;
  column: number;
  /** The value's path in its own file. */
  path: Path;
}

export type Located =
  | {
      kind: "scalar";
      value: unknown;
      origin: Origin;
      /** Unquoted in YAML: a whole `${VAR}` takes the type of what it expands to. */
      plain?: boolean;
      /** The variable a secret is read from. */
      secretRef?: string;
      /** A problem was already reported for this value (an unset variable, an inline secret). */
      invalid?: true;
    }
  | { kind: "map"; entries: Map<string, { keyOrigin: Origin; node: Located }>; origin: Origin }
  | { kind: "seq"; items: Located[]; origin: Origin };

/**
 * Fields that hold secrets: `targets[i].postgres.password`, `targets[i].ssh_tunnel.private_key|passphrase`,
 * and every value inside `syncs[i].source.credentials`.
 */
export function isSecretPath(path: Path): boolean {
  if (isCredentialPath(path)) return true;
  if (path.length !== 4 || path[0] !== "targets" || typeof path[1] !== "number") return false;
  return (
    (path[2] === "postgres" && path[3] === "password") ||
    (path[2] === "ssh_tunnel" && (path[3] === "private_key" || path[3] === "passphrase"))
  );
}

/** `syncs[i].source.credentials` or anything inside it: a provider's credential, a secret as a whole. */
export function isCredentialPath(path: Path): boolean {
  return (
    path.length >= 4 &&
    path[0] === "syncs" &&
    typeof path[1] === "number" &&
    path[2] === "source" &&
    path[3] === "credentials"
  );
}

/** A value as written, to be read by its type (and its `${VAR}`s expanded) later. */
function plainScalar(node: Scalar, origin: Origin): Located {
  return {
    kind: "scalar",
    value: node.value,
    origin,
    plain: node.type === Scalar.PLAIN || node.type === undefined,
  };
}

export class LocatedBuilder {
  /** The sync being read, by index: an inline credential's message suggests a variable named after it. */
  private readonly syncNames = new Map<number, string>();
  /** The sync's provider, by index: which of its credential fields are secrets. */
  private readonly syncProviders = new Map<number, string>();

  constructor(
    private readonly file: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly problems: ConfigProblem[],
  ) {}

  build(): Located {
    const contents = this.doc.contents;
    if (contents === null || (isScalar(contents) && contents.value === null)) {
      return { kind: "map", entries: new Map(), origin: this.origin(0, []) };
    }
    return this.node(contents as Node, []);
  }

  private origin(offset: number, path: Path): Origin {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line, column: col, path };
  }

  private problem(origin: Origin, message: string): void {
    this.problems.push({
      file: origin.file,
      line: origin.line,
      column: origin.column,
      path: formatPath(origin.path),
      message,
    });
  }

  private node(node: Node, path: Path, depth = 0): Located {
    const origin = this.origin(node.range?.[0] ?? 0, path);
    if (isAlias(node)) {
      const target = node.resolve(this.doc);
      if (!target || depth > 50) {
        this.problem(origin, `alias *${node.source} does not refer to an anchor`);
        return { kind: "scalar", value: null, origin };
      }
      return { ...this.node(target, path, depth + 1), origin };
    }
    if (isMap(node)) {
      if (path.length === 2 && path[0] === "syncs" && typeof path[1] === "number") {
        const name = node.get("name");
        if (typeof name === "string") this.syncNames.set(path[1], name);
        const provider = node.get("provider");
        if (typeof provider === "string") this.syncProviders.set(path[1], provider);
      }
      const entries = new Map<string, { keyOrigin: Origin; node: Located }>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const key = pair.key;
        const keyOffset = (key as Node | null)?.range?.[0] ?? node.range?.[0] ?? 0;
        if (!isScalar(key) || (typeof key.value !== "string" && typeof key.value !== "number")) {
          this.problem(this.origin(keyOffset, path), "keys must be plain names");
          continue;
        }
        const name = String(key.value);
        const childPath = [...path, name];
        const keyOrigin = this.origin(keyOffset, childPath);
        const value = pair.value as Node | null;
        const child = value
          ? this.node(value, childPath, depth)
          : this.scalar(new Scalar(null), keyOrigin, childPath);
        entries.set(name, { keyOrigin, node: child });
      }
      return { kind: "map", entries, origin };
    }
    if (isSeq(node)) {
      const items = node.items.map((item, i) => {
        const itemPath = [...path, i];
        return item
          ? this.node(item as Node, itemPath, depth)
          : ({ kind: "scalar", value: null, origin: { ...origin, path: itemPath } } as Located);
      });
      return { kind: "seq", items, origin };
    }
    return this.scalar(node as Scalar, origin, path);
  }

  private scalar(node: Scalar, origin: Origin, path: Path): Located {
    const raw = node.value;
    if (isCredentialPath(path)) return this.credential(raw, origin, path, node);
    if (isSecretPath(path)) {
      const ref = typeof raw === "string" ? secretReference(raw) : undefined;
      if (ref === undefined) {
        // never echo the value: it may be the secret itself
        this.problem(
          origin,
          `secrets are written as a reference to an environment variable, never inline: e.g. \${APP_PASSWORD}, without a default`,
        );
        return { kind: "scalar", value: "", origin, invalid: true };
      }
      return { kind: "scalar", value: raw, origin, secretRef: ref };
    }
    return plainScalar(node, origin);
  }

  /**
   * A credential's value: a `${VAR}` reference for a secret (any field but the plain ones the provider's
   * kind lists: an account id, an address, an OAuth client id, which may also be written inline).
   */
  private credential(raw: unknown, origin: Origin, path: Path, node: Scalar): Located {
    const ref = typeof raw === "string" ? secretReference(raw) : undefined;
    if (ref !== undefined && path.length > 4) return { kind: "scalar", value: raw, origin, secretRef: ref };
    const provider = this.syncProviders.get(path[1] as number);
    if (path.length === 5 && provider && !isSecretCredential(provider, String(path[4])))
      return plainScalar(node, origin);
    const syncName = this.syncNames.get(path[1] as number);
    const prefix = variablePrefix(syncName ?? "", "SYNC");
    // never echo the value: it is the credential itself
    if (path.length === 4) {
      this.problem(
        origin,
        `must be a mapping of the provider's credential fields, each a reference to an environment variable: e.g. { api_key: \${${prefix}_API_KEY} }`,
      );
    } else {
      const field = String(path[path.length - 1]);
      this.problem(
        origin,
        `is a secret: written as a reference to an environment variable, never inline and without a default: e.g. \${${prefix}_${variablePrefix(field, "SECRET")}}`,
      );
    }
    return { kind: "scalar", value: "", origin, invalid: true };
  }
}

/** The tree with `${VAR}` references expanded from `env`; problems for unset variables and bad references. */
export function expandReferences(node: Located, env: Env, problems: ConfigProblem[]): Located {
  switch (node.kind) {
    case "map": {
      const entries = new Map<string, { keyOrigin: Origin; node: Located }>();
      for (const [key, entry] of node.entries) {
        entries.set(key, { ...entry, node: expandReferences(entry.node, env, problems) });
      }
      return { ...node, entries };
    }
    case "seq":
      return { ...node, items: node.items.map((item) => expandReferences(item, env, problems)) };
    case "scalar":
      return expandScalar(node, env, problems);
    default: {
      const unreachable: never = node;
      return unreachable;
    }
  }
}

function expandScalar(
  node: Extract<Located, { kind: "scalar" }>,
  env: Env,
  problems: ConfigProblem[],
): Located {
  const problem = (message: string): Located => {
    const { file, line, column, path } = node.origin;
    problems.push({ file, line, column, path: formatPath(path), message });
    return { ...node, invalid: true };
  };
  if (node.invalid || typeof node.value !== "string") return node;
  if (node.secretRef !== undefined) {
    const value = env[node.secretRef];
    if (value === undefined)
      return problem(`environment variable ${node.secretRef} is not set: set it to the secret`);
    return { ...node, value };
  }
  const expanded = interpolate(node.value, env);
  if (!expanded.ok) return problem(expanded.message);
  const value = node.plain && isWholeReference(node.value) ? typedValue(expanded.value) : expanded.value;
  return { ...node, value };
}

/** The plain value, for schema validation. */
export function toPlain(node: Located): unknown {
  switch (node.kind) {
    case "scalar":
      return node.value;
    case "seq":
      return node.items.map(toPlain);
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [key, entry] of node.entries) out[key] = toPlain(entry.node);
      return out;
    }
    default: {
      const unreachable: never = node;
      return unreachable;
    }
  }
}

/** The deepest node on `path`, and how much of the path is left below it (missing keys). */
export function locate(root: Located, path: Path): { node: Located; rest: Path } {
  let node = root;
  for (let i = 0; i < path.length; i++) {
    const part = path[i]!;
    let next: Located | undefined;
    if (node.kind === "map") next = node.entries.get(String(part))?.node;
    else if (node.kind === "seq" && typeof part === "number") next = node.items[part];
    if (!next) return { node, rest: path.slice(i) };
    node = next;
  }
  return { node, rest: [] };
}

/** Where a key of a map is written (for unknown keys). */
export function keyOrigin(node: Located, key: string): Origin | undefined {
  return node.kind === "map" ? node.entries.get(key)?.keyOrigin : undefined;
}
