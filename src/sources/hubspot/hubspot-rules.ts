/**
 * What HubSpot's answers mean. Errors come as `{status: "error", message, category, correlationId}`;
 * a 429 names the limit it hit in `policyName`:
 *
 * - `TEN_SECONDLY_ROLLING` (the burst limit every endpoint shares): throttled, backing off, since HubSpot
 *   says neither when the window frees nor sends Retry-After (its own client waits 10 s);
 * - the search endpoints' own per-second limit ("You have reached your secondly limit."): one second;
 * - `DAILY`: the day's quota is spent, which resets at midnight in the portal's time zone: the request fails
 *   at once (`exhausted`), the sync shows failing and its runner probes again on its backoff.
 *
 * A 401 ends an OAuth session (HubSpot says a 401 is not the sign to refresh, so the session refreshes by
 * the token's lifetime; a 401 still gets one refresh, and a private app's token none); a 403 is a missing
 * scope; 5xx are retried. A successful answer whose `X-HubSpot-RateLimit-Remaining` is 0 holds the
 * credential for a moment, before the rolling window refuses.
 */
import { judgeByStatus, type ProviderAnswer, type ProviderRules, type Verdict } from "../provider-http.js";

interface HubSpotErrorBody {
  message?: string;
  category?: string;
  policyName?: string;
}

export const SECONDLY_LIMIT_MESSAGE = "You have reached your secondly limit.";

/** How long a remaining count of 0 holds the credential (the rolling window frees a slot within it). */
const remainingZeroPauseMs = 1000;

export const hubspotRules: ProviderRules = {
  provider: "hubspot",
  judge(answer: ProviderAnswer, now: number): Verdict {
    if (answer.status >= 200 && answer.status < 300) return { kind: "ok" };
    const body = (typeof answer.body === "object" ? answer.body : undefined) as HubSpotErrorBody | undefined;
    const message = body?.message ?? `HTTP ${answer.status}`;
    const code = body?.category;
    if (answer.status === 429) {
      if (body?.policyName === "DAILY") return { kind: "exhausted", message };
      if (message === SECONDLY_LIMIT_MESSAGE) return { kind: "throttled", message, untilMs: now + 1000 };
      const verdict = judgeByStatus(answer, now);
      return { ...verdict, message } as Verdict;
    }
    if (answer.status === 401) return { kind: "reauthorize", message, ...(code ? { code } : {}) };
    const verdict = judgeByStatus(answer, now);
    if (verdict.kind === "refused") return { ...verdict, message, ...(code ? { code } : {}) };
    if (verdict.kind === "ok") return verdict;
    return { ...verdict, message };
  },
  pauseAfter(answer: ProviderAnswer, now: number): number | undefined {
    return answer.headers.get("x-hubspot-ratelimit-remaining") === "0"
      ? now + remainingZeroPauseMs
      : undefined;
  },
};
