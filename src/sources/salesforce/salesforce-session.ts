/**
 * How requests carry a Salesforce credential: an access token alone, or the OAuth refresh-token flow (a
 * connected app's client id and secret trade the refresh token at `{login_url}/services/oauth2/token`, or at
 * `token_url` when the credential names the whole endpoint, for a session, at first use and again when
 * Salesforce answers INVALID_SESSION_ID).
 *
 * The token answer's `instance_url` says where the org's API lives. Requests go only to the sync's
 * base_url (the credential never travels elsewhere): when the two differ, the session is refused with a
 * message naming the address to set. Token requests do not count against the org's API requests.
 */
import { oneAtATime, postRefreshTokenGrant } from "../oauth-refresh.js";
import { ProviderError } from "../provider-http.js";
import type { CredentialSession, SourceContext } from "../source-kinds.js";
import { defaultLoginUrl } from "./salesforce-kind.js";

const tokenTimeoutMs = 30_000;

export function salesforceSession({ credentials, baseUrl }: SourceContext): CredentialSession {
  let accessToken = typeof credentials.access_token === "string" ? credentials.access_token : undefined;
  if (typeof credentials.refresh_token !== "string")
    return { headers: () => ({ authorization: `Bearer ${accessToken}` }) };
  const renew = oneAtATime(async (signal) => {
    accessToken = await refresh(credentials, baseUrl, signal);
  });
  return {
    async headers(signal) {
      if (accessToken === undefined) await renew(signal);
      return { authorization: `Bearer ${accessToken}` };
    },
    reauthorize: renew,
  };
}

async function refresh(
  credentials: Record<string, unknown>,
  baseUrl: string,
  signal?: AbortSignal,
): Promise<string> {
  const login = String(credentials.login_url ?? defaultLoginUrl).replace(/\/$/, "");
  const where =
    typeof credentials.token_url === "string" ? credentials.token_url : `${login}/services/oauth2/token`;
  const response = await postRefreshTokenGrant("salesforce", where, credentials, {
    timeoutMs: tokenTimeoutMs,
    signal,
  });
  const body = response.body;
  if (response.status >= 500 || response.status === 429 || !body)
    throw new ProviderError(
      response.ok ? "invalid_answer" : "unavailable",
      `salesforce's token endpoint ${where} answered HTTP ${response.status}${body ? "" : " without JSON"}`,
      { status: response.status, url: where },
    );
  if (!response.ok) {
    const reason = `${String(body.error ?? `HTTP ${response.status}`)}: ${String(body.error_description ?? "")}`;
    throw new ProviderError("refused", `salesforce refused the refresh token at ${where}: ${reason}`, {
      status: response.status,
      code: String(body.error ?? ""),
      url: where,
      reason,
    });
  }
  if (typeof body.access_token !== "string" || typeof body.instance_url !== "string")
    throw new ProviderError(
      "invalid_answer",
      `salesforce's token endpoint ${where} answered without access_token or instance_url`,
      { url: where },
    );
  if (new URL(body.instance_url).origin !== new URL(baseUrl).origin) {
    const reason = `the org's API is at ${body.instance_url}, but the sync's base_url is ${baseUrl}: set base_url to ${body.instance_url}`;
    throw new ProviderError("refused", `salesforce: ${reason}`, { url: where, reason });
  }
  return body.access_token;
}
