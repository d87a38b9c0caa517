/**
 * What Salesforce's answers mean. REST errors come as `[{message, errorCode}]`.
 *
 * - 401 `INVALID_SESSION_ID`: the session ended; an OAuth credential is renewed once (`reauthorize`).
 * - 403 `REQUEST_LIMIT_EXCEEDED` "TotalRequests Limit exceeded": the org's daily requests are spent. Handed
 *   to the source as a refusal with its code: the source turns it into a failing state that retries with the
 *   engine's backoff (hours may pass; waiting silently inside one request would show the sync as live).
 *   The same code for too many long-running requests at once is a short throttle.
 * - 400 `INVALID_QUERY_LOCATOR` (a dead `nextRecordsUrl`) and `INVALID_REPLICATION_DATE` (a delete log
 *   window too old): refusals with their code, which the source acts on.
 * - 5xx and 408 are retried; any other status is a refusal with Salesforce's message.
 */
import { judgeByStatus, type ProviderAnswer, type ProviderRules, type Verdict } from "../provider-http.js";

/** Salesforce's first error of an answer: `[{message, errorCode}]`. */
export function salesforceError(body: unknown): { message: string; code?: string } | undefined {
  const first = Array.isArray(body) ? (body[0] as { message?: unknown; errorCode?: unknown }) : undefined;
  if (!first || typeof first !== "object") return undefined;
  return {
    message: typeof first.message === "string" ? first.message.trim() : "",
    ...(typeof first.errorCode === "string" ? { code: first.errorCode } : {}),
  };
}

export const salesforceRules: ProviderRules = {
  provider: "salesforce",
  judge(answer: ProviderAnswer, now: number): Verdict {
    if (answer.status >= 200 && answer.status < 300) return { kind: "ok" };
    const error = salesforceError(answer.body);
    const message = error ? `${error.message} (${error.code ?? "no errorCode"})` : `HTTP ${answer.status}`;
    const code = error?.code ? { code: error.code } : {};
    if (answer.status === 401) return { kind: "reauthorize", message, ...code };
    if (error?.code === "REQUEST_LIMIT_EXCEEDED" && !/TotalRequests/i.test(error.message))
      return { kind: "throttled", message };
    const verdict = judgeByStatus(answer, now);
    if (verdict.kind === "refused") return { kind: "refused", message, ...code };
    if (verdict.kind === "ok") return verdict;
    return { ...verdict, message };
  },
};

/** `Sforce-Limit-Info: api-usage=25/100000`, as numbers; undefined when absent or unreadable. */
export function apiUsage(headers: Headers): { used: number; limit: number } | undefined {
  const match = /api-usage=(\d+)\/(\d+)/.exec(headers.get("sforce-limit-info") ?? "");
  return match ? { used: Number(match[1]), limit: Number(match[2]) } : undefined;
}
