/**
 * The one HTTP client every source uses to call its provider. Each request:
 *
 * 1. waits its turn in the credential's allotment (allotment.ts), so the sync never exceeds its share;
 * 2. runs under a deadline (a provider that stops answering must not hang a sync);
 * 3. is judged by the provider's rules (`ProviderRules.judge`): a success; **throttled** (the provider's
 *    rate-limit signal: the allotment is paused until the provider's reset, then the request is tried
 *    again; counted); **retry** (5xx, a dropped connection, a timeout: jittered backoff, a bounded number of
 *    times); or **refused** (a wrong credential, a missing permission, a bad request: not retried, surfaced
 *    with the provider's own reason).
 *
 * Failures are `ProviderError`s with a kind the engine acts on. A body that is not the JSON the provider
 * promises is an `invalid_answer`, naming the URL and status, never a crash.
 */
import { Backoff, type BackoffOptions, delay } from "../runtime/index.js";
import type { Allotment } from "./allotment.js";

export type Verdict =
  | { kind: "ok" }
  /** The provider's rate limit: wait until `untilMs` (epoch ms; unknown → backoff), then try again. */
  | { kind: "throttled"; untilMs?: number; message: string }
  /** Worth another try after a backoff (5xx, a transient error). */
  | { kind: "retry"; message: string }
  /** Not worth another try: the provider's reason, as it said it. */
  | { kind: "refused"; message: string; code?: string }
  /**
   * A quota spent for longer than one request should wait (a daily limit): the request fails at once as
   * `unavailable`, so the sync shows failing while its runner retries on its own backoff; `untilMs`, when the
   * provider says when the quota returns, also holds every request of the credential until then.
   */
  | { kind: "exhausted"; message: string; untilMs?: number }
  /**
   * The credential's session ended (an OAuth access token expired or was revoked): the session is renewed
   * once (`reauthorize`) and the request tried again; a second one in a row is a refusal.
   */
  | { kind: "reauthorize"; message: string; code?: string };

export interface ProviderAnswer {
  status: number;
  headers: Headers;
  body: unknown;
}

/** What a provider's answers mean; `defaultRules` covers plain HTTP. */
export interface ProviderRules {
  provider: string;
  judge(answer: ProviderAnswer, now: number): Verdict;
  /** A signal in a successful answer that the allotment must wait (a quota's remaining count at zero). */
  pauseAfter?(answer: ProviderAnswer, now: number): number | undefined;
}

export type ProviderErrorKind =
  /** The provider refused (credential, permission, request): a person must act. */
  | "refused"
  /** The provider did not answer usably after every retry (down, throttling us for too long). */
  | "unavailable"
  /** An answer that is not what the provider documents. */
  | "invalid_answer";

export class ProviderError extends Error {
  constructor(
    readonly kind: ProviderErrorKind,
    message: string,
    readonly details: { status?: number; code?: string; url?: string; reason?: string } = {},
  ) {
    super(message);
  }

  /** The provider's own words when it gave some (a refusal's message), else the whole message. */
  get reason(): string {
    return this.details.reason ?? this.message;
  }
}

export interface RequestEvent {
  provider: string;
  status: number | "network";
  throttled: boolean;
  ms: number;
}

export interface ProviderHttpOptions {
  provider: ProviderRules;
  baseUrl: string;
  /** Headers every request carries (the credential); a function, so a refreshed token is picked up. */
  headers: (signal?: AbortSignal) => Record<string, string> | Promise<Record<string, string>>;
  /** Renews the credential's session after a `reauthorize` verdict (an OAuth refresh); absent: refused. */
  reauthorize?: (signal?: AbortSignal) => Promise<void>;
  allotment: Allotment;
  /** One request's deadline. */
  timeoutMs?: number;
  /** Retries of 5xx, network errors and timeouts. */
  backoff?: BackoffOptions;
  /** Tries per request for `retry` verdicts (throttled waits are counted apart). */
  maxAttempts?: number;
  /** Waits on the provider's rate limit per request before giving up as unavailable. */
  maxThrottledWaits?: number;
  /**
   * A pause the provider asked for that ends further away than this (a quota spent until its hourly or
   * daily reset) is not waited out inside a request: the request fails as unavailable, naming when the pause
   * ends, so the sync shows it is failing; the runner's retries then wait in the allotment, asking nothing.
   */
  longPauseMs?: number;
  /** Called after every attempt (metrics). */
  onRequest?: (event: RequestEvent) => void;
  now?: () => number;
}

export interface GetOptions {
  query?: Record<string, string | number | readonly string[] | undefined>;
  headers?: Record<string, string>;
  /** Statuses handed back as answers instead of judged (e.g. 404 on a re-read: the object is gone). */
  accept?: readonly number[];
  signal?: AbortSignal;
}

export interface RequestOptions extends GetOptions {
  /** A JSON body (sent as application/json). */
  json?: unknown;
  /** A form body (sent as application/x-www-form-urlencoded). */
  form?: Record<string, string>;
}

export const defaultRules: ProviderRules = {
  provider: "http",
  judge: judgeByStatus,
};

/** Plain HTTP: 2xx ok, 429 throttled (Retry-After), 408 and 5xx retried, other 4xx refused. */
export function judgeByStatus(answer: ProviderAnswer, now: number): Verdict {
  const { status } = answer;
  if (status >= 200 && status < 300) return { kind: "ok" };
  const said = messageIn(answer.body) ?? `HTTP ${status}`;
  if (status === 429) {
    const untilMs = retryAfter(answer.headers, now);
    return { kind: "throttled", message: said, ...(untilMs !== undefined ? { untilMs } : {}) };
  }
  if (status === 408 || status >= 500) return { kind: "retry", message: said };
  return { kind: "refused", message: said };
}

/** `Retry-After` as epoch ms: seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfter(headers: Headers, now: number): number | undefined {
  const value = headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return now + seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : date;
}

/** A provider's error message in a JSON body, in the common shapes. */
function messageIn(body: unknown): string | undefined {
  if (typeof body !== "object" || body === null) return typeof body === "string" && body ? body : undefined;
  const b = body as Record<string, unknown>;
  const error = b.error;
  if (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { message?: unknown }).message === "string"
  )
    return (error as { message: string }).message;
  if (typeof b.message === "string") return b.message;
  if (typeof error === "string") return error;
  return undefined;
}

export class ProviderHttp {
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxThrottledWaits: number;
  private readonly longPauseMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ProviderHttpOptions) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.maxAttempts = options.maxAttempts ?? 6;
    this.maxThrottledWaits = options.maxThrottledWaits ?? 20;
    this.longPauseMs = options.longPauseMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** GET `path` (relative to the base URL, or absolute on the same host) and its JSON body. */
  get(path: string, options: GetOptions = {}): Promise<ProviderAnswer> {
    return this.request("GET", path, options);
  }

  /** POST `path` with a JSON or form body (a search endpoint that reads, never one that writes). */
  post(path: string, options: RequestOptions = {}): Promise<ProviderAnswer> {
    return this.request("POST", path, options);
  }

  /** Any method: every attempt takes its turn in the allotment and is judged by the provider's rules. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<ProviderAnswer> {
    const url = this.url(path, options.query);
    const rules = this.options.provider;
    const backoff = new Backoff(this.options.backoff ?? { initialMs: 500, maxMs: 30_000 });
    let throttledWaits = 0;
    let reauthorized = false;
    for (;;) {
      this.refuseLongPause(url);
      const turn = await this.options.allotment.take(options.signal);
      const started = this.now();
      let answer: ProviderAnswer | undefined;
      let verdict: Verdict;
      try {
        answer = await this.fetchOnce(method, url, options);
        verdict =
          options.accept?.includes(answer.status) === true ? { kind: "ok" } : rules.judge(answer, this.now());
      } catch (error) {
        if (error instanceof ProviderError) throw error;
        if (options.signal?.aborted) throw options.signal.reason;
        verdict = { kind: "retry", message: networkMessage(error, this.timeoutMs) };
      } finally {
        turn.done();
      }
      this.options.onRequest?.({
        provider: rules.provider,
        status: answer?.status ?? "network",
        throttled: verdict.kind === "throttled" || verdict.kind === "exhausted",
        ms: this.now() - started,
      });
      if (verdict.kind === "reauthorize") {
        if (!reauthorized && this.options.reauthorize) {
          reauthorized = true;
          await this.options.reauthorize(options.signal);
          continue;
        }
        verdict = { ...verdict, kind: "refused" };
      } else reauthorized = false;
      switch (verdict.kind) {
        case "ok": {
          const pause = answer && rules.pauseAfter?.(answer, this.now());
          if (pause !== undefined) this.options.allotment.pauseUntil(pause);
          return answer!;
        }
        case "refused":
          throw new ProviderError(
            "refused",
            `${rules.provider} refused ${redactedPath(url)}: ${verdict.message}`,
            {
              reason: verdict.message,
              ...(answer ? { status: answer.status } : {}),
              ...(verdict.code ? { code: verdict.code } : {}),
              url: redactedPath(url),
            },
          );
        case "exhausted":
          if (verdict.untilMs !== undefined) this.options.allotment.pauseUntil(verdict.untilMs);
          throw new ProviderError(
            "unavailable",
            `${rules.provider} quota spent (${redactedPath(url)}): ${verdict.message}`,
            { ...(answer ? { status: answer.status } : {}), url: redactedPath(url), reason: verdict.message },
          );
        case "throttled": {
          throttledWaits += 1;
          if (throttledWaits > this.maxThrottledWaits)
            throw new ProviderError(
              "unavailable",
              `${rules.provider} kept answering "rate limited" (${throttledWaits} times in a row): ${verdict.message}`,
              { ...(answer ? { status: answer.status } : {}), url: redactedPath(url) },
            );
          this.options.allotment.pauseUntil(verdict.untilMs ?? this.now() + backoff.next());
          break;
        }
        case "retry": {
          if (backoff.attempts + 1 >= this.maxAttempts)
            throw new ProviderError(
              "unavailable",
              `${rules.provider} did not answer ${redactedPath(url)} usably after ${this.maxAttempts} tries: ${verdict.message}`,
              { ...(answer ? { status: answer.status } : {}), url: redactedPath(url) },
            );
          await delay(backoff.next(), options.signal);
          break;
        }
      }
    }
  }

  /** Fails as unavailable while the credential's pause has longer than `longPauseMs` to run. */
  private refuseLongPause(url: URL): void {
    const until = this.options.allotment.pausedUntilMs;
    if (until - this.now() <= this.longPauseMs) return;
    throw new ProviderError(
      "unavailable",
      `${this.options.provider.provider} asked to wait until ${new Date(until).toISOString()} (its rate limit for this credential is spent): pulling resumes then`,
      { url: redactedPath(url) },
    );
  }

  private url(path: string, query: GetOptions["query"]): URL {
    const base = new URL(this.options.baseUrl);
    const url = new URL(path, base.href.endsWith("/") ? base : `${base.href}/`);
    // an absolute next-page URL from the provider must stay on the provider's host: the credential goes with it
    if (url.origin !== base.origin)
      throw new ProviderError(
        "invalid_answer",
        `${this.options.provider.provider} pointed to ${url.origin}, outside ${base.origin}`,
      );
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value)) for (const v of value) url.searchParams.append(key, v);
      else url.searchParams.set(key, String(value));
    }
    return url;
  }

  private async fetchOnce(method: string, url: URL, options: RequestOptions): Promise<ProviderAnswer> {
    const signals = [AbortSignal.timeout(this.timeoutMs), ...(options.signal ? [options.signal] : [])];
    const sent =
      options.json !== undefined
        ? { type: "application/json", text: JSON.stringify(options.json) }
        : options.form !== undefined
          ? { type: "application/x-www-form-urlencoded", text: new URLSearchParams(options.form).toString() }
          : undefined;
    const response = await fetch(url, {
      method,
      headers: {
        accept: "application/json",
        ...(sent ? { "content-type": sent.type } : {}),
        ...(await this.options.headers(options.signal)),
        ...options.headers,
      },
      ...(sent ? { body: sent.text } : {}),
      signal: AbortSignal.any(signals),
    });
    const text = await response.text();
    let body: unknown = text;
    if (text.length > 0) {
      try {
        body = JSON.parse(text);
      } catch {
        // a 5xx from a proxy in front of the provider is often HTML: judged by its status, not parsed
        if (response.status < 500 && response.status !== 429)
          throw new ProviderError(
            "invalid_answer",
            `${this.options.provider.provider} answered ${redactedPath(url)} with HTTP ${response.status} and a body that is not JSON: ${JSON.stringify(text.slice(0, 120))}`,
            { status: response.status, url: redactedPath(url) },
          );
      }
    }
    return { status: response.status, headers: response.headers, body };
  }
}

/** The URL without its query, which may carry cursors or (for some providers) keys. */
function redactedPath(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

function networkMessage(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
  const cause = e?.cause?.code ?? e?.cause?.message;
  return cause ? `${e?.message ?? "request failed"} (${cause})` : (e?.message ?? String(error));
}
