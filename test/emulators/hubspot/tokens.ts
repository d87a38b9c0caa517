/**
 * Who may call the emulator: private apps' access tokens, and OAuth apps whose refresh token is exchanged
 * at `POST /oauth/v1/token` for access tokens that expire (`expires_in`, 30 minutes by HubSpot's default,
 * on the emulator's clock). Rate limits and the daily quota count per install: a private app, or an OAuth
 * app's refresh token (every access token it got shares them).
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { EmulatorClock } from "../stripe/index.js";

export interface OAuthApp {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

interface AccessToken {
  install: string;
  /** Emulator ms; null for a private app's token, which does not expire. */
  expiresAt: number | null;
  revoked: boolean;
}

export type Authorization =
  | { ok: true; install: string; privateApp: boolean }
  | {
      ok: false;
      category: "INVALID_AUTHENTICATION" | "EXPIRED_AUTHENTICATION";
      message: string;
      /** The install of a token that is known but revoked or expired (for the request log). */
      install?: string;
    };

export class Tokens {
  private readonly access = new Map<string, AccessToken>();
  private readonly apps = new Map<string, OAuthApp & { revoked: boolean }>();
  lifetimeSeconds = 1800;

  constructor(private readonly clock: EmulatorClock) {}

  createPrivateApp(): string {
    const token = `pat-na1-${randomUUID()}`;
    this.access.set(token, { install: token, expiresAt: null, revoked: false });
    return token;
  }

  createOAuthApp(): OAuthApp {
    const app = {
      clientId: randomUUID(),
      clientSecret: randomUUID(),
      refreshToken: `na1-${randomBytes(4).toString("hex")}-${randomUUID()}`,
    };
    this.apps.set(app.refreshToken, { ...app, revoked: false });
    return app;
  }

  /** A private app's token, or an OAuth install (its refresh token and every access token it got). */
  revoke(tokenOrRefreshToken: string): void {
    const app = this.apps.get(tokenOrRefreshToken);
    if (app) app.revoked = true;
    for (const token of this.access.values()) if (token.install === tokenOrRefreshToken) token.revoked = true;
  }

  /** The token endpoint's answer to a refresh: a new access token, or HubSpot's refusal. */
  refresh(
    form: URLSearchParams,
  ): { ok: true; body: Record<string, unknown> } | { ok: false; body: Record<string, unknown> } {
    const refused = (status: string, message: string) => ({
      ok: false as const,
      body: { status, message, correlationId: randomUUID() },
    });
    if (form.get("grant_type") !== "refresh_token")
      return refused("BAD_GRANT_TYPE", "grant_type must be one of authorization_code, refresh_token");
    const app = this.apps.get(form.get("refresh_token") ?? "");
    if (!app || app.revoked) return refused("BAD_REFRESH_TOKEN", "missing or unknown refresh token");
    if (form.get("client_id") !== app.clientId)
      return refused("BAD_CLIENT_ID", "missing or unknown client id");
    if (form.get("client_secret") !== app.clientSecret)
      return refused("BAD_CLIENT_SECRET", "missing or invalid client secret");
    const token = `CJ${randomBytes(24).toString("base64url")}`;
    this.access.set(token, {
      install: app.refreshToken,
      expiresAt: this.clock.nowMs() + this.lifetimeSeconds * 1000,
      revoked: false,
    });
    return {
      ok: true,
      body: {
        token_type: "bearer",
        refresh_token: app.refreshToken,
        access_token: token,
        expires_in: this.lifetimeSeconds,
      },
    };
  }

  authorize(header: string | undefined): Authorization {
    const token = /^Bearer (.+)$/i.exec(header ?? "")?.[1];
    const known = token ? this.access.get(token) : undefined;
    if (!known || known.revoked)
      return {
        ok: false,
        ...(known ? { install: known.install } : {}),
        category: "INVALID_AUTHENTICATION",
        message: token
          ? "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
          : "Any of the listed authentication credentials are missing",
      };
    if (known.expiresAt !== null && this.clock.nowMs() >= known.expiresAt) {
      const minutes = Math.max(1, Math.floor((this.clock.nowMs() - known.expiresAt) / 60_000));
      return {
        ok: false,
        install: known.install,
        category: "EXPIRED_AUTHENTICATION",
        message: `The OAuth token used to make this call expired ${minutes} minute(s) ago.`,
      };
    }
    return { ok: true, install: known.install, privateApp: known.expiresAt === null };
  }

  /** How many access tokens an install was given (OAuth refreshes). */
  refreshes(refreshToken: string): number {
    return [...this.access.values()].filter((t) => t.install === refreshToken).length;
  }
}
