/**
 * What Stripe's answers mean. Errors come as `{error: {type, code?, message}}`. A 429 is Stripe's rate
 * limit (it sends no quota headers and often no Retry-After: we back off ourselves, since the official client
 * does not retry a plain 429); `Stripe-Should-Retry: true` marks a lock timeout worth another try; 5xx are
 * retried; 401/403 and other 4xx are refusals carrying Stripe's message.
 */
import { judgeByStatus, type ProviderAnswer, type ProviderRules, type Verdict } from "../provider-http.js";

interface StripeErrorBody {
  error?: { type?: string; code?: string; message?: string };
}

export const stripeRules: ProviderRules = {
  provider: "stripe",
  judge(answer: ProviderAnswer, now: number): Verdict {
    if (answer.status >= 200 && answer.status < 300) return { kind: "ok" };
    const error = (answer.body as StripeErrorBody | undefined)?.error;
    const message = error?.message ?? `HTTP ${answer.status}`;
    if (answer.headers.get("stripe-should-retry") === "true") return { kind: "retry", message };
    if (answer.headers.get("stripe-should-retry") === "false" && answer.status !== 429)
      return { kind: "refused", message, ...(error?.code ? { code: error.code } : {}) };
    const verdict = judgeByStatus(answer, now);
    if (verdict.kind === "refused")
      return { ...verdict, message, ...(error?.code ? { code: error.code } : {}) };
    if (verdict.kind === "ok") return verdict;
    return { ...verdict, message };
  },
};
