/** HubSpot's error answers: `{status: "error", message, correlationId, category, …}` with their statuses. */
import { randomUUID } from "node:crypto";

export class HubSpotHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: Record<string, unknown>,
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    return { status: "error", message: this.message, correlationId: randomUUID(), ...this.fields };
  }
}

export const validationError = (message: string, extra: Record<string, unknown> = {}) =>
  new HubSpotHttpError(400, message, { category: "VALIDATION_ERROR", ...extra });

export const notFound = (message = "resource not found") =>
  new HubSpotHttpError(404, message, { category: "OBJECT_NOT_FOUND" });

export const unknownRoute = (method: string, path: string) =>
  new HubSpotHttpError(404, `Unable to route ${method} ${path}`, { category: "OBJECT_NOT_FOUND" });

export const unauthorized = (category: string, message: string) =>
  new HubSpotHttpError(401, message, { category });

export const internalError = () =>
  new HubSpotHttpError(500, "internal error", { category: "INTERNAL_ERROR" });

/** The 429 of each limit; the search limit's message is the one HubSpot's client retries on. */
export function rateLimited(policy: "TEN_SECONDLY_ROLLING" | "DAILY" | "SECONDLY"): HubSpotHttpError {
  if (policy === "SECONDLY")
    return new HubSpotHttpError(429, "You have reached your secondly limit.", { errorType: "RATE_LIMIT" });
  return new HubSpotHttpError(
    429,
    policy === "DAILY"
      ? "You have reached your daily limit."
      : "You have reached your ten_secondly_rolling limit.",
    { errorType: "RATE_LIMIT", policyName: policy, groupName: "api-calls" },
  );
}

export const missingScopes = (scope: string) =>
  new HubSpotHttpError(
    403,
    "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
    {
      category: "MISSING_SCOPES",
      errors: [
        {
          message: "One or more of the following scopes are required.",
          context: { requiredScopes: [scope] },
        },
      ],
      links: { scopes: "https://developers.hubspot.com/scopes" },
    },
  );
