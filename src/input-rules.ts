/**
 * Rules every request input follows at the door, beyond the shape its schema gives (docs/errors.md):
 *
 * - Text: no NUL character (Postgres text cannot hold it) and no unpaired UTF-16 surrogate (not Unicode),
 *   in any string or object key of a request (path ids, query strings and bodies, metadata included).
 *   `parseInput` applies it after the schema, for every API route, console form and in-process caller,
 *   so a new field cannot forget the rule.
 * - JSON objects given as data (a sync's metadata, a record's payload) are plain objects nested at most
 *   `maxJsonDepth` levels deep.
 * - A record's payload is upstream data, kept as sent: it is exempt from the text rule; its NUL characters
 *   and lone surrogates become U+FFFD at ingest (docs/streams.md).
 */
import { z } from "zod";

/** Objects and arrays nested deeper than this inside a JSON data field are refused. */
export const maxJsonDepth = 100;

const nulMessage = "must not contain the NUL character (\\u0000): Postgres cannot store it; remove it";
const surrogateMessage =
  "must not contain an unpaired UTF-16 surrogate (\\uD800-\\uDFFF): it is not Unicode text; send valid UTF-8";

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding NUL is the point
const nul = /\u0000/;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text` breaks the text rule, or undefined when it keeps it. */
export function textProblem(text: string): string | undefined {
  if (nul.test(text)) return nulMessage;
  if (loneSurrogate.test(text)) return surrogateMessage;
  return undefined;
}

/** Payload objects that passed their schema: the text rule does not look inside them. */
const exemptData = new WeakSet<object>();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether `value` holds objects or arrays nested more than `limit` levels deep (iterative: no stack limit). */
function nestedDeeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (typeof node !== "object" || node === null) continue;
    if (depth > limit) return true;
    for (const inner of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof inner === "object" && inner !== null) stack.push([inner, depth + 1]);
    }
  }
  return false;
}

function jsonObject(exemptFromTextRule: boolean) {
  return z
    .custom<Record<string, unknown>>(isPlainObject, { message: "must be a JSON object" })
    .superRefine((value, ctx) => {
      if (nestedDeeperThan(value, maxJsonDepth)) {
        ctx.addIssue({
          code: "custom",
          message: `must not nest objects and arrays more than ${maxJsonDepth} levels deep`,
        });
      } else if (exemptFromTextRule && isPlainObject(value)) {
        exemptData.add(value);
      }
    });
}

/** A JSON object the client gives as data (a sync's metadata); its keys and strings follow the text rule. */
export const jsonObjectSchema = jsonObject(false);

/** A record's payload: upstream data kept as sent, exempt from the text rule (sanitized at ingest). */
export const payloadObjectSchema = jsonObject(true);

/** A value met while walking JSON, with its key and parent: paths are built only when one is needed. */
export interface JsonVisit {
  node: unknown;
  key: PropertyKey | undefined;
  parent: JsonVisit | undefined;
}

export function pathOf(visit: JsonVisit | undefined, last?: PropertyKey): PropertyKey[] {
  const path: PropertyKey[] = last === undefined ? [] : [last];
  for (let at = visit; at?.key !== undefined; at = at.parent) path.unshift(at.key);
  return path;
}

/**
 * Every value inside a parsed JSON value, depth first, in document order. Iterative and linear: no depth
 * exhausts the stack or costs more than its size. `enter` answers "skip" to pass over a node's contents,
 * "stop" to end the walk.
 */
export function walkJson(value: unknown, enter: (visit: JsonVisit) => "skip" | "stop" | undefined): void {
  const stack: JsonVisit[] = [{ node: value, key: undefined, parent: undefined }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const answer = enter(visit);
    if (answer === "stop") return;
    const { node } = visit;
    if (answer === "skip" || typeof node !== "object" || node === null) continue;
    if (Array.isArray(node)) {
      for (let index = node.length - 1; index >= 0; index--) {
        stack.push({ node: node[index], key: index, parent: visit });
      }
    } else {
      const keys = Object.keys(node);
      for (let index = keys.length - 1; index >= 0; index--) {
        const key = keys[index]!;
        stack.push({ node: (node as Record<string, unknown>)[key], key, parent: visit });
      }
    }
  }
}

/**
 * The text rule over a request part after its schema accepted it: one issue per string or key that breaks
 * it, with the path of the field. Payloads are skipped.
 */
export function textIssues(value: unknown): z.core.$ZodIssue[] {
  const issues: z.core.$ZodIssue[] = [];
  const issue = (path: PropertyKey[], message: string) =>
    issues.push({ code: "custom", path, message, input: undefined });
  walkJson(value, (visit) => {
    const { node } = visit;
    if (typeof visit.key === "string") {
      const problem = textProblem(visit.key);
      if (problem) issue(pathOf(visit), `key ${problem}`);
    }
    if (typeof node === "string") {
      const problem = textProblem(node);
      if (problem) issue(pathOf(visit), problem);
    }
    return typeof node === "object" && node !== null && exemptData.has(node) ? "skip" : undefined;
  });
  return issues;
}

export type ParsedInput<T> = { success: true; data: T } | { success: false; issues: z.core.$ZodIssue[] };

/**
 * An input through its schema, then through the text rule: how the API, the console's forms and
 * in-process callers read what a client sends.
 */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown): ParsedInput<T> {
  const result = schema.safeParse(value);
  if (!result.success) return { success: false, issues: result.error.issues };
  const issues = textIssues(result.data);
  if (issues.length > 0) return { success: false, issues };
  return { success: true, data: result.data };
}
