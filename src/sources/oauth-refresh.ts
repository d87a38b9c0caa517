/**
 * The OAuth refresh-token grant, as the providers whose credential is an OAuth app's (HubSpot, Salesforce)
 * renew their access tokens. The token endpoint is not an API call (it has no part in the rate limits), so
 * it is called with `fetch` directly, not through the credential's allotment. What an answer means is the
 * provider's to judge (each words its refusals differently); no answer at all is `unavailable` here.
 */
import { ProviderError } from "./provider-http.js";

export interface TokenAnswer {
  status: number;
  ok: boolean;
  /** The answer's JSON object; undefined when the body is not one. */
  body: Record<string, unknown> | undefined;
}

/** POSTs `grant_type=refresh_token` with the credential's client id, secret and refresh token. */
export async function postRefreshTokenGrant(
  provider: string,
  url: string,
  credentials: Record<string, unknown>,
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<TokenAnswer> {
  const { signal } = options;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        client_id: String(credentials.client_id),
        client_secret: String(credentials.client_secret),
        refresh_token: String(credentials.refresh_token),
      }).toString(),
      signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), ...(signal ? [signal] : [])]),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return {
      status: response.status,
      ok: response.ok,
      body: typeof body === "object" && body !== null ? (body as Record<string, unknown>) : undefined,
    };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new ProviderError(
      "unavailable",
      `${provider} did not answer ${url} to renew the OAuth access token: ${(error as Error).message}`,
      { url },
    );
  }
}

/** One renewal at a time: callers that arrive while one runs share its outcome. */
export function oneAtATime<T>(
  renew: (signal?: AbortSignal) => Promise<T>,
): (signal?: AbortSignal) => Promise<T> {
  let running: Promise<T> | undefined;
  return (signal) => {
    running ??= renew(signal).finally(() => {
      running = undefined;
    });
    return running;
  };
}
