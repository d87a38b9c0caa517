/**
 * Malformed requests for any route, from a seed: bodies mutated from valid ones (fields dropped, wrong
 * types, huge numbers, NUL, lone surrogates, `__proto__`/`constructor` keys, deep nesting, long strings,
 * arrays for objects), raw junk bytes, wrong content types, junk path ids and query strings, every method.
 * The same seed gives the same requests.
 */

/** mulberry32: small, fast, seeded. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

export interface FuzzRoute {
  method: string;
  /** fastify's form: `/v1/syncs/:id` */
  url: string;
}

export interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** what was done, for failure reports */
  note: string;
}

export interface FuzzerOptions {
  routes: FuzzRoute[];
  /** valid bodies by `METHOD url`, mutated into invalid ones */
  examples: Record<string, unknown>;
  /** a real value for a path parameter of a route, or undefined */
  validParam(url: string, name: string): string | undefined;
  /** a valid query string (without `?`) for a route, or undefined */
  validQuery(url: string): string | undefined;
  token: string;
}

export const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

// Keys JSON.stringify cannot write (an own `__proto__`), renamed in the text.
const protoKey = "__fuzz_proto__";
const escapedProtoKey = "__fuzz_escaped_proto__";

const weirdStrings = [
  "",
  " ",
  "x",
  "\u0000",
  "a\u0000b",
  "\ud800",
  "x\udc00y",
  "\udbff\udfff",
  "💥",
  "\u202e\u0301",
  "\\u0000",
  "%00",
  "'; drop table x; --",
  '"quoted"',
  "null",
  "__proto__",
  "constructor",
  "0",
  "-1",
  "2024-13-45T99:99:99Z",
  "2024-05-01T12:00:00Z",
  "00000000-0000-0000-0000-000000000000",
  "ffffffff-ffff-ffff-ffff-ffffffffffff",
  "SHA256:",
  "\t\r\n",
  "\uFEFF",
];

const weirdNumbers = [
  0,
  -1,
  1.5,
  2 ** 31,
  2 ** 53 + 2,
  -(2 ** 63),
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  65536,
  1e21,
];
const rawNumbers = ["1e400", "-1e400", "123456789012345678901234567890", "-0", "1e-400", "0.0000001"];

/** Every byte of the UTF-8 text percent-encoded (a lone surrogate becomes U+FFFD). */
function percentEncoded(text: string): string {
  return Array.from(Buffer.from(text), (byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
}

export class RequestFuzzer {
  private readonly random: Random;
  /** Raw JSON text (huge numbers, deep nesting) by placeholder string, for the request being made. */
  private raws = new Map<string, string>();

  constructor(
    seed: number,
    private readonly options: FuzzerOptions,
  ) {
    this.random = new Random(seed);
  }

  next(): FuzzRequest {
    const r = this.random;
    this.raws.clear();
    const route = r.pick(this.options.routes);
    const method = r.chance(0.7) ? route.method : r.pick(methods);
    const notes: string[] = [];
    const path = this.path(route, notes) + this.query(route, notes);
    const headers: Record<string, string> = {};
    const auth = r.next();
    if (auth < 0.03) notes.push("no token");
    else if (auth < 0.05) headers.authorization = r.pick(["Bearer x", "Basic abc", "Bearer", "bearer  \t"]);
    else headers.authorization = `Bearer ${this.options.token}`;
    const request: FuzzRequest = { method, path, headers, note: "" };
    if (method !== "GET" && method !== "HEAD") this.body(route, method, request, notes);
    request.note = notes.join("; ");
    return request;
  }

  /** A placeholder value that becomes `text` in the JSON text. */
  private raw(text: string): string {
    const name = `__fuzz_raw_${this.raws.size}__`;
    this.raws.set(name, text);
    return name;
  }

  private finishText(text: string): string {
    let out = text
      .replaceAll(`"${protoKey}"`, '"__proto__"')
      .replaceAll(`"${escapedProtoKey}"`, '"\\u005f_proto__"');
    if (this.raws.size > 0) {
      out = out.replace(/"(__fuzz_raw_\d+__)"/g, (_m, name: string) => this.raws.get(name) ?? "null");
    }
    return out;
  }

  private uuid(): string {
    const hex = Array.from({ length: 32 }, () => this.random.int(16).toString(16)).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`;
  }

  private path(route: FuzzRoute, notes: string[]): string {
    const r = this.random;
    const parts = route.url.split("/").map((part) => {
      if (!part.startsWith(":")) {
        return part !== "" && r.chance(0.01) ? r.pick(["%2F", "..", "x", part.toUpperCase()]) : part;
      }
      const name = part.slice(1);
      const valid = this.options.validParam(route.url, name);
      if (valid !== undefined && r.chance(0.45)) return encodeURIComponent(valid);
      const junk = this.junkSegment();
      notes.push(`${name}=${junk.slice(0, 60)}`);
      return junk;
    });
    let path = parts.join("/");
    if (r.chance(0.02)) path += r.pick(["/", "//", "/x", "/%00"]);
    return path;
  }

  private junkSegment(): string {
    const r = this.random;
    const uuid = this.uuid();
    return r.pick([
      uuid,
      uuid.toUpperCase(),
      uuid.replaceAll("-", ""),
      `${uuid}%00`,
      `%00${uuid.slice(3)}`,
      "not-a-uuid",
      "%00",
      "a%00b",
      "%ZZ",
      "%",
      "%E0%A4%A",
      "%ED%A0%80",
      "%C0%80",
      "%FF%FE",
      "%2e%2e",
      "%2F",
      "%20",
      "x".repeat(r.int(6000) + 1),
      "%F0%9F%92%A5",
      "__proto__",
      "constructor",
      "prototype",
      "null",
      "0",
      "-1",
      "1e999",
      percentEncoded(r.pick(weirdStrings)) || "%00",
    ]);
  }

  private query(route: FuzzRoute, notes: string[]): string {
    const r = this.random;
    const roll = r.next();
    if (roll < 0.5) return "";
    const valid = this.options.validQuery(route.url);
    if (roll < 0.65 && valid) return `?${valid}`;
    const junk = [
      "__proto__=1",
      "__proto__[x]=1",
      "constructor=1",
      "constructor[prototype][x]=1",
      "a[b]=c",
      "limit=1e999",
      "limit=-1",
      "limit=0x10",
      "limit=abc",
      "limit=1&limit=2",
      "limit=%00",
      "collection_id=%00",
      "collection_id=a%00b",
      "upstream_id=%ED%A0%80",
      "upstream_id=%FF",
      `collection_id=${"c".repeat(r.int(10000))}`,
      "collection_id=&upstream_id=",
      "collection_id=c&collection_id=d",
      "%ZZ=1",
      "=",
      "&&&",
      "a=%",
      "=%00",
      "apply=true",
    ];
    const parts = [valid ?? "", r.pick(junk), r.chance(0.3) ? r.pick(junk) : ""].filter((p) => p !== "");
    const query = parts.join("&");
    notes.push(`query ${query.slice(0, 80)}`);
    return `?${query}`;
  }

  private body(route: FuzzRoute, method: string, request: FuzzRequest, notes: string[]): void {
    const r = this.random;
    const example = this.options.examples[`${method} ${route.url}`];
    const contentType = r.chance(0.8)
      ? "application/json"
      : r.pick([
          "application/json; charset=utf-8",
          "application/json; charset=latin1",
          "APPLICATION/JSON",
          "application/json;;;",
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data; boundary=x",
          "application/octet-stream",
          "application/vnd.api+json",
          "",
        ]);
    const roll = r.next();
    if (example === undefined && roll < 0.3) {
      notes.push("no body");
      return;
    }
    if (contentType !== "") request.headers["content-type"] = contentType;
    notes.push(`content-type ${JSON.stringify(contentType)}`);
    if (roll < 0.12) {
      request.body = this.junkBytes();
      notes.push("junk bytes");
    } else if (roll < 0.2 || example === undefined) {
      request.body = this.finishText(JSON.stringify(this.junkValue(0)));
      notes.push("junk JSON");
    } else {
      const mutated = structuredClone(example);
      const count = 1 + r.int(3);
      let value: unknown = mutated;
      for (let i = 0; i < count; i++) value = this.mutate(value, notes);
      let text = this.finishText(JSON.stringify(value) ?? "null");
      if (r.chance(0.08)) text = this.corrupt(text, notes);
      request.body = text;
    }
  }

  private junkBytes(): Buffer {
    const r = this.random;
    const length = r.pick([0, 1, 2, 16, 300, 5000]);
    const bytes = Buffer.alloc(length);
    for (let i = 0; i < length; i++)
      bytes[i] = r.chance(0.3) ? r.pick([0, 0x7b, 0x22, 0xff, 0xc0, 0xed, 0x80]) : r.int(256);
    return bytes;
  }

  private junkValue(depth: number): unknown {
    const r = this.random;
    const kind = r.int(depth > 3 ? 4 : 7);
    switch (kind) {
      case 0:
        return r.pick(weirdStrings);
      case 1:
        return r.pick(weirdNumbers);
      case 2:
        return r.pick([true, false, null]);
      case 3:
        return this.raw(r.pick(rawNumbers));
      case 4:
        return Array.from({ length: r.int(4) }, () => this.junkValue(depth + 1));
      case 5: {
        const out: Record<string, unknown> = {};
        for (let i = r.int(4); i > 0; i--) out[this.junkKey()] = this.junkValue(depth + 1);
        return out;
      }
      default:
        return this.raw(this.deepText());
    }
  }

  private junkKey(): string {
    return this.random.pick([protoKey, "constructor", "prototype", "a\u0000", "\ud800", "", "x", "toString"]);
  }

  private deepText(): string {
    const r = this.random;
    const depth = r.pick([99, 101, 150, 1000, 5000, 20000]);
    return r.chance(0.5)
      ? "[".repeat(depth) + "]".repeat(depth)
      : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
  }

  /** Every object or array in a value with its path, the root included. */
  private containers(value: unknown): { node: Record<string, unknown> | unknown[]; path: string }[] {
    const out: { node: Record<string, unknown> | unknown[]; path: string }[] = [];
    const visit = (node: unknown, path: string) => {
      if (Array.isArray(node)) {
        out.push({ node, path });
        node.forEach((inner, i) => {
          visit(inner, `${path}[${i}]`);
        });
      } else if (node !== null && typeof node === "object") {
        out.push({ node: node as Record<string, unknown>, path });
        for (const [key, inner] of Object.entries(node)) visit(inner, `${path}.${key}`);
      }
    };
    visit(value, "");
    return out;
  }

  /** One change somewhere in `value`; returns the new root. */
  private mutate(value: unknown, notes: string[]): unknown {
    const r = this.random;
    const spots = this.containers(value);
    if (spots.length === 0 || r.chance(0.04)) {
      notes.push("root replaced");
      return r.chance(0.5) ? [value] : this.junkValue(0);
    }
    const { node, path } = r.pick(spots);
    const keys: (string | number)[] = Array.isArray(node) ? node.map((_, i) => i) : Object.keys(node);
    const set = (key: string | number, inner: unknown) => {
      (node as Record<string | number, unknown>)[key] = inner;
    };
    const kind = r.int(12);
    if (keys.length === 0 || kind === 0) {
      const key = Array.isArray(node) ? node.length : r.chance(0.5) ? this.junkKey() : `extra_${r.int(100)}`;
      set(key, this.junkValue(1));
      notes.push(`added ${path}.${key}`);
      return value;
    }
    const key = r.pick(keys);
    const at = `${path}.${key}`;
    const current = (node as Record<string | number, unknown>)[key];
    switch (kind) {
      case 1:
        if (Array.isArray(node)) node.splice(key as number, 1);
        else delete (node as Record<string, unknown>)[key as string];
        notes.push(`dropped ${at}`);
        break;
      case 2:
        set(key, this.junkValue(1));
        notes.push(`wrong type at ${at}`);
        break;
      case 3:
        set(key, r.chance(0.5) ? r.pick(weirdNumbers) : this.raw(r.pick(rawNumbers)));
        notes.push(`number at ${at}`);
        break;
      case 4: {
        const text = typeof current === "string" ? current : "x";
        const cut = r.int(text.length + 1);
        set(
          key,
          text.slice(0, cut) + r.pick(["\u0000", "\ud800", "\udfff", "\u0000\u0000"]) + text.slice(cut),
        );
        notes.push(`NUL or lone surrogate in ${at}`);
        break;
      }
      case 5:
        set(key, r.pick(weirdStrings));
        notes.push(`string at ${at}`);
        break;
      case 6: {
        const poison = r.pick([protoKey, "constructor", "prototype"]);
        const inner = current !== null && typeof current === "object" ? current : {};
        (inner as Record<string, unknown>)[poison] = r.chance(0.5)
          ? { prototype: { polluted: true } }
          : { polluted: true };
        set(key, inner);
        notes.push(`${poison} key in ${at}`);
        break;
      }
      case 7:
        set(key, this.raw(this.deepText()));
        notes.push(`deep nesting at ${at}`);
        break;
      case 8:
        set(key, "x".repeat(r.pick([256, 1024, 70_000, 1_100_000])));
        notes.push(`long string at ${at}`);
        break;
      case 9:
        set(key, [current]);
        notes.push(`array at ${at}`);
        break;
      case 10:
        if (!Array.isArray(node)) node[escapedProtoKey] = { polluted: true };
        notes.push(`escaped __proto__ key next to ${at}`);
        break;
      default:
        if (Array.isArray(current)) {
          for (let i = r.pick([2, 50, 1001]); i > 0; i--) current.push(current[0] ?? null);
          notes.push(`long array at ${at}`);
        } else {
          set(key, null);
          notes.push(`null at ${at}`);
        }
    }
    return value;
  }

  private corrupt(text: string, notes: string[]): string {
    const r = this.random;
    const at = r.int(text.length + 1);
    const kind = r.int(3);
    notes.push(`text corrupted at ${at}`);
    if (kind === 0) return text.slice(0, at);
    if (kind === 1)
      return text.slice(0, at) + r.pick(["\u0000", "{", '"', "\\", "\\u00", ",", "]"]) + text.slice(at);
    return text + r.pick(["x", "}", " {}", "\u0000"]);
  }
}
