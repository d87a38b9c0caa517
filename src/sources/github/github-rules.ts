/**
 * What GitHub's answers mean (https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api).
 * Errors come as `{message, documentation_url, status}`.
 *
 * - The primary limit (5,000 an hour for a token) is spent: 403 or 429 with `x-ratelimit-remaining: 0`;
 *   every request of the token waits until `x-ratelimit-reset` (unix seconds). A success that leaves the
 *   remaining count at 0 pauses the same way, before GitHub has to refuse anything.
 * - A secondary limit (too many requests at once or a minute, too much CPU): 403 or 429 whose message says
 *   "secondary rate limit", with `retry-after` seconds (GitHub asks for at least a minute without one).
 * - Any other 403 is a refusal (a token without the permission, a blocked account), as are 401 (bad
 *   credentials) and 404 (a repository the token cannot see); 5xx are retried.
 */
import { judgeByStatus, type ProviderAnswer, type ProviderRules, type Verdict } from "../provider-http.js";

/** GitHub's advice when a secondary limit comes without `retry-after`. */
const secondaryWaitMs = 60_000;

export const githubRules: ProviderRules = {
  provider: "github",
  judge(answer: ProviderAnswer, now: number): Verdict {
    const { status, headers } = answer;
    if ((status >= 200 && status < 300) || status === 304) return { kind: "ok" };
    const message = messageOf(answer);
    if (status === 403 || status === 429) {
      if (headers.get("x-ratelimit-remaining") === "0") {
        const reset = resetAt(headers);
        return { kind: "throttled", message, ...(reset !== undefined ? { untilMs: reset } : {}) };
      }
      if (/\bsecondary rate\b/i.test(message)) {
        const seconds = Number(headers.get("retry-after"));
        const untilMs =
          headers.get("retry-after") !== null && Number.isFinite(seconds) && seconds >= 0
            ? now + seconds * 1000
            : now + secondaryWaitMs;
        return { kind: "throttled", message, untilMs };
      }
    }
    const verdict = judgeByStatus(answer, now);
    return verdict.kind === "ok" ? verdict : { ...verdict, message };
  },
  pauseAfter(answer) {
    if (answer.headers.get("x-ratelimit-remaining") !== "0") return undefined;
    return resetAt(answer.headers);
  },
};

/** `x-ratelimit-reset` (unix seconds) as epoch ms. */
function resetAt(headers: Headers): number | undefined {
  const seconds = Number(headers.get("x-ratelimit-reset"));
  return headers.get("x-ratelimit-reset") !== null && Number.isFinite(seconds) && seconds > 0
    ? seconds * 1000
    : undefined;
}

function messageOf(answer: ProviderAnswer): string {
  const body = answer.body as { message?: unknown } | undefined;
  if (typeof body === "object" && body !== null && typeof body.message === "string" && body.message)
    return body.message;
  return `HTTP ${answer.status}`;
}
