/**
 * How JSON request bodies are read. `JSON.parse` makes every key an own property, so no key can pollute a
 * prototype while parsing; the key `__proto__` is still refused anywhere in a body (400 naming its path),
 * because code that copies objects by assignment would turn it into a prototype. `constructor` and
 * `prototype` are ordinary keys: schemas refuse them where fields are fixed (unknown field) and keep them
 * as data in payloads and metadata. An empty body is read as no body, so that
 * `curl -X POST -H 'content-type: application/json'` works on action routes (start, pause, …); routes that
 * need a body still refuse it, naming the body.
 */
import type { FastifyInstance } from "fastify";
import { SequinError, validationError } from "../errors.js";
import { pathOf, walkJson } from "../input-rules.js";
import { formatPath } from "./request-validation.js";

/** `"__proto__"` as JSON text may spell it, escapes included; a match only means "look closer". */
const protoKeyText =
  /"(?:_|\\u005f)(?:_|\\u005f)(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006f)(?:t|\\u0074)(?:o|\\u006f)(?:_|\\u005f)(?:_|\\u005f)"/i;

/** The path of the first `__proto__` key in a parsed value, if any. */
function protoKeyPath(value: unknown): PropertyKey[] | undefined {
  let path: PropertyKey[] | undefined;
  walkJson(value, (visit) => {
    if (visit.key !== "__proto__") return undefined;
    path = pathOf(visit);
    return "stop";
  });
  return path;
}

export function parseJsonBody(text: string): unknown {
  if (text === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new SequinError("validation_failed", `request body is not valid JSON: ${(error as Error).message}`);
  }
  const path = protoKeyText.test(text) ? protoKeyPath(value) : undefined;
  if (path) {
    const field = formatPath(path);
    throw validationError(
      { [field]: ['the key "__proto__" is refused anywhere in a request: rename it'] },
      `invalid ${field}: the key "__proto__" is refused anywhere in a request (it can pollute object prototypes in JavaScript): rename it`,
    );
  }
  return value;
}

export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
