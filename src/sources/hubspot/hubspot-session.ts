/**
 * How requests carry a HubSpot credential. A private app's token is sent as it is. An OAuth app's refresh
 * token is exchanged at `POST /oauth/v1/token` for an access token that lives `expires_in` seconds (30
 * minutes): the session renews it ahead of that time, by its lifetime, since HubSpot documents that a 401 is
 * no sign a new token is needed. One renewal at a time; a 401 still gets one (`reauthorize`).
 *
 * The token endpoint is called outside the rate limits (oauth-refresh.ts). A refusal there (a revoked install, a wrong secret) is a `refused` ProviderError quoting
 * HubSpot; no answer is `unavailable`.
 */

import { oneAtATime, postRefreshTokenGrant } from "../oauth-refresh.js";
import { ProviderError } from "../provider-http.js";
import type { CredentialSession, SourceContext } from "../source-kinds.js";

/** Renewed this long before the token expires (or at half its life, if that is sooner). */
const renewAheadMs = 5 * 60_000;
const tokenTimeoutMs = 15_000;

interface Token {
  accessToken: string;
  /** Epoch ms at which it is renewed. */
  renewAt: number;
}

export function hubspotSession(context: SourceContext, now: () => number = Date.now): CredentialSession {
  const { credentials } = context;
  if (typeof credentials.access_token === "string" && credentials.access_token !== "") {
    const headers = { authorization: `Bearer ${credentials.access_token}` };
    return { headers: () => headers };
  }
  let token: Token | undefined;
  const renew = oneAtATime((signal) => refresh(context, now, signal));
  return {
    async headers(signal) {
      if (!token || now() >= token.renewAt) token = await renew(signal);
      return { authorization: `Bearer ${token.accessToken}` };
    },
    async reauthorize(signal) {
      token = await renew(signal);
    },
  };
}

async function refresh(context: SourceContext, now: () => number, signal?: AbortSignal): Promise<Token> {
  const { credentials, baseUrl } = context;
  const url = new URL("/oauth/v1/token", baseUrl);
  const where = `${url.origin}${url.pathname}`;
  const response = await postRefreshTokenGrant("hubspot", where, credentials, {
    timeoutMs: tokenTimeoutMs,
    signal,
  });
  const answer = response.body;
  if (!response.ok) {
    const reason =
      typeof answer?.message === "string"
        ? answer.message
        : `HTTP ${response.status} renewing the access token`;
    const kind = response.status >= 500 || response.status === 429 ? "unavailable" : "refused";
    throw new ProviderError(kind, `hubspot refused the OAuth refresh token: ${reason}`, {
      status: response.status,
      reason,
      url: where,
      ...(typeof answer?.status === "string" ? { code: answer.status } : {}),
    });
  }
  if (
    typeof answer?.access_token !== "string" ||
    answer.access_token === "" ||
    typeof answer.expires_in !== "number" ||
    !(answer.expires_in > 0)
  )
    throw new ProviderError(
      "invalid_answer",
      `hubspot answered ${url.pathname} without an access_token and a positive expires_in`,
      { status: response.status, url: where },
    );
  const lifeMs = answer.expires_in * 1000;
  return {
    accessToken: answer.access_token,
    renewAt: now() + Math.max(0, lifeMs - Math.min(renewAheadMs, lifeMs / 2)),
  };
}
