/**
 * The SOQL subset pullers use: `SELECT f, … FROM Object [WHERE …] [ORDER BY f [ASC|DESC] [NULLS FIRST|LAST],
 * …] [LIMIT n]`, conditions of `field op literal` (=, !=, <>, <, <=, >, >=) joined by AND, OR, NOT and
 * parentheses; literals: 'strings' (with \' escapes), numbers, true/false/null, dates and datetimes
 * (`2024-01-31T10:00:00Z`, `…+01:00`, `….000+0000`). Keywords and field names are case-insensitive; an
 * unknown field is INVALID_FIELD, an unknown object INVALID_TYPE, anything else MALFORMED_QUERY, as in
 * Salesforce.
 */
import { invalidField, invalidType, malformedQuery } from "./errors.js";
import type { FieldSpec, ObjectSpec } from "./schema.js";

export type Literal = string | number | boolean | null | { datetime: number };

export type Condition =
  | { kind: "and" | "or"; left: Condition; right: Condition }
  | { kind: "not"; inner: Condition }
  | { kind: "compare"; field: FieldSpec; op: string; value: Literal };

export interface SoqlQuery {
  object: ObjectSpec;
  fields: FieldSpec[];
  where: Condition | null;
  orderBy: { field: FieldSpec; descending: boolean }[];
  limit: number | null;
}

const TOKEN =
  /\s*(?:(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))|(\d{4}-\d{2}-\d{2})|('(?:[^'\\]|\\.)*')|(-?\d+(?:\.\d+)?)|(<=|>=|!=|<>|=|<|>)|([(),])|([A-Za-z_][A-Za-z0-9_.]*))/y;

type Token =
  | { t: "datetime"; v: number }
  | { t: "date"; v: string }
  | { t: "string"; v: string }
  | { t: "number"; v: number }
  | { t: "op"; v: string }
  | { t: "punct"; v: string }
  | { t: "word"; v: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < text.length) {
    if (/^\s*$/.test(text.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(text);
    if (!m) throw malformedQuery(`unexpected token: '${text.slice(at).trim().split(/\s/)[0]}'`);
    at = TOKEN.lastIndex;
    if (m[1]) tokens.push({ t: "datetime", v: Date.parse(m[1].replace(/([+-]\d{2})(\d{2})$/, "$1:$2")) });
    else if (m[2]) tokens.push({ t: "date", v: m[2] });
    else if (m[3]) tokens.push({ t: "string", v: m[3].slice(1, -1).replace(/\\(.)/g, "$1") });
    else if (m[4]) tokens.push({ t: "number", v: Number(m[4]) });
    else if (m[5]) tokens.push({ t: "op", v: m[5] });
    else if (m[6]) tokens.push({ t: "punct", v: m[6] });
    else tokens.push({ t: "word", v: m[7]! });
  }
  return tokens;
}

export function parseSoql(text: string, objects: ReadonlyMap<string, ObjectSpec>): SoqlQuery {
  const tokens = tokenize(text);
  let i = 0;
  const peekWord = (word: string) => {
    const token = tokens[i];
    return token?.t === "word" && token.v.toUpperCase() === word;
  };
  const expectWord = (word: string) => {
    if (!peekWord(word)) throw malformedQuery(`expecting '${word}', found '${describe(tokens[i])}'`);
    i++;
  };
  const word = (): string => {
    const token = tokens[i++];
    if (token?.t !== "word") throw malformedQuery(`unexpected token: '${describe(token)}'`);
    return token.v;
  };
  expectWord("SELECT");
  const names: string[] = [word()];
  while (tokens[i]?.t === "punct" && tokens[i]!.v === ",") {
    i++;
    names.push(word());
  }
  expectWord("FROM");
  const objectName = word();
  const object = [...objects.values()].find((o) => o.name.toLowerCase() === objectName.toLowerCase());
  if (!object) throw invalidType(objectName);
  const fieldOf = (name: string): FieldSpec => {
    const found = object.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (!found) throw invalidField(name, object.name);
    return found;
  };
  const fields = names.map(fieldOf);

  const literal = (): Literal => {
    const token = tokens[i++];
    if (!token) throw malformedQuery("unexpected end of query");
    switch (token.t) {
      case "string":
      case "number":
      case "date":
        return token.v;
      case "datetime":
        return { datetime: token.v };
      case "word": {
        const w = token.v.toLowerCase();
        if (w === "true") return true;
        if (w === "false") return false;
        if (w === "null") return null;
        break;
      }
    }
    throw malformedQuery(`unexpected token: '${describe(token)}'`);
  };
  const factor = (): Condition => {
    if (tokens[i]?.t === "punct" && tokens[i]!.v === "(") {
      i++;
      const inner = or();
      if (!(tokens[i]?.t === "punct" && tokens[i]!.v === ")"))
        throw malformedQuery(`expecting ')', found '${describe(tokens[i])}'`);
      i++;
      return inner;
    }
    if (peekWord("NOT")) {
      i++;
      return { kind: "not", inner: factor() };
    }
    const field = fieldOf(word());
    const op = tokens[i++];
    if (op?.t !== "op") throw malformedQuery(`unexpected token: '${describe(op)}'`);
    const value = literal();
    if (field.type === "datetime" && value !== null && typeof value !== "object")
      throw malformedQuery(
        `value of filter criterion for field '${field.name}' must be of type dateTime and should not be enclosed in quotes`,
      );
    return { kind: "compare", field, op: op.v === "<>" ? "!=" : op.v, value };
  };
  const and = (): Condition => {
    let left = factor();
    while (peekWord("AND")) {
      i++;
      left = { kind: "and", left, right: factor() };
    }
    return left;
  };
  const or = (): Condition => {
    let left = and();
    while (peekWord("OR")) {
      i++;
      left = { kind: "or", left, right: and() };
    }
    return left;
  };

  let where: Condition | null = null;
  if (peekWord("WHERE")) {
    i++;
    where = or();
  }
  const orderBy: SoqlQuery["orderBy"] = [];
  if (peekWord("ORDER")) {
    i++;
    expectWord("BY");
    for (;;) {
      const field = fieldOf(word());
      let descending = false;
      if (peekWord("ASC")) i++;
      else if (peekWord("DESC")) {
        i++;
        descending = true;
      }
      if (peekWord("NULLS")) i += 2;
      orderBy.push({ field, descending });
      if (tokens[i]?.t === "punct" && tokens[i]!.v === ",") i++;
      else break;
    }
  }
  let limit: number | null = null;
  if (peekWord("LIMIT")) {
    i++;
    const token = tokens[i++];
    if (token?.t !== "number" || !Number.isInteger(token.v) || token.v < 0)
      throw malformedQuery("LIMIT must be a non-negative integer");
    limit = token.v;
  }
  if (i < tokens.length) throw malformedQuery(`unexpected token: '${describe(tokens[i])}'`);
  return { object, fields, where, orderBy, limit };
}

function describe(token: Token | undefined): string {
  if (!token) return "<EOF>";
  return token.t === "datetime" ? new Date(token.v).toISOString() : String(token.v);
}

/** A comparable form of a field's value: datetimes as epoch ms, the rest as they are. */
export type Values = (field: FieldSpec) => string | number | boolean | null;

export function matches(condition: Condition | null, values: Values): boolean {
  if (!condition) return true;
  switch (condition.kind) {
    case "and":
      return matches(condition.left, values) && matches(condition.right, values);
    case "or":
      return matches(condition.left, values) || matches(condition.right, values);
    case "not":
      return !matches(condition.inner, values);
    case "compare": {
      const actual = values(condition.field);
      const wanted =
        condition.value !== null && typeof condition.value === "object"
          ? condition.value.datetime
          : condition.value;
      if (condition.op === "=") return actual === wanted;
      if (condition.op === "!=") return actual !== wanted;
      if (actual === null || wanted === null) return false;
      const c = actual < wanted ? -1 : actual > wanted ? 1 : 0;
      return condition.op === "<"
        ? c < 0
        : condition.op === "<="
          ? c <= 0
          : condition.op === ">"
            ? c > 0
            : c >= 0;
    }
  }
}

export function compareBy(orderBy: SoqlQuery["orderBy"], values: (row: unknown) => Values) {
  return (a: unknown, b: unknown): number => {
    for (const { field, descending } of orderBy) {
      const x = values(a)(field);
      const y = values(b)(field);
      if (x === y) continue;
      // nulls first ascending, as Salesforce sorts by default
      const c = x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return descending ? -c : c;
    }
    return 0;
  };
}
