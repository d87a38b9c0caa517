/**
 * Sessions and the OAuth refresh-token grant. An access token is a session: valid until revoked or expired
 * (then 401 INVALID_SESSION_ID). A connected app (client id and secret) may trade a refresh token for a new
 * access token at `/services/oauth2/token`; a revoked refresh token is `invalid_grant`.
 */
import { randomBytes } from "node:crypto";
import { OAuthError } from "./errors.js";

export const ORG_ID = "00D5g00000ABCDEFGH";
export const USER_ID = "0055g00000XYZWVUTS";

interface RefreshGrant {
  clientId: string;
  clientSecret: string;
  revoked: boolean;
}

export class Tokens {
  private readonly sessions = new Map<string, boolean>();
  private readonly grants = new Map<string, RefreshGrant>();
  readonly clientId = `3MVG9${randomBytes(12).toString("hex")}`;
  readonly clientSecret = randomBytes(16).toString("hex").toUpperCase();
  /** Access tokens issued by the token endpoint, in order. */
  readonly issued: string[] = [];

  session(): string {
    const token = `${ORG_ID}!AQ${randomBytes(24).toString("base64url")}`;
    this.sessions.set(token, true);
    return token;
  }

  valid(token: string): boolean {
    return this.sessions.get(token) === true;
  }

  /** Ends a session (expired, or logged out): its next request is 401 INVALID_SESSION_ID. */
  revoke(token: string): void {
    this.sessions.set(token, false);
  }

  refreshToken(): string {
    const token = `5Aep861${randomBytes(24).toString("base64url")}`;
    this.grants.set(token, { clientId: this.clientId, clientSecret: this.clientSecret, revoked: false });
    return token;
  }

  revokeRefreshToken(token: string): void {
    const grant = this.grants.get(token);
    if (grant) grant.revoked = true;
  }

  refresh(form: URLSearchParams, instanceUrl: string): Record<string, unknown> {
    if (form.get("grant_type") !== "refresh_token")
      throw new OAuthError(400, "unsupported_grant_type", "grant type not supported");
    const grant = this.grants.get(form.get("refresh_token") ?? "");
    if (form.get("client_id") !== this.clientId)
      throw new OAuthError(400, "invalid_client_id", "client identifier invalid");
    if (form.get("client_secret") !== null && form.get("client_secret") !== this.clientSecret)
      throw new OAuthError(400, "invalid_client", "invalid client credentials");
    if (!grant || grant.revoked) throw new OAuthError(400, "invalid_grant", "expired access/refresh token");
    const accessToken = this.session();
    this.issued.push(accessToken);
    return {
      access_token: accessToken,
      signature: randomBytes(32).toString("base64"),
      scope: "refresh_token api",
      instance_url: instanceUrl,
      id: `https://login.salesforce.com/id/${ORG_ID}/${USER_ID}`,
      token_type: "Bearer",
      issued_at: String(Date.now()),
    };
  }
}
