/**
 * Stripe's error responses, worded and shaped as the API sends them (https://docs.stripe.com/api/errors and the
 * example responses on each endpoint's page): `{ error: { code, doc_url, message, param, type } }`, keys in
 * alphabetical order, `request_log_url` added by the server for requests made inside an account.
 */

export interface StripeErrorFields {
  type: "invalid_request_error" | "api_error";
  message: string;
  code?: string;
  param?: string;
}

/** A request the emulator refuses; the server turns it into the status, headers and body below. */
export class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly fields: StripeErrorFields,
    readonly headers: Record<string, string> = {},
    /** Errors raised before an account is known (a bad key) carry no dashboard log link. */
    readonly logged = true,
  ) {
    super(fields.message);
  }

  body(requestLogUrl: string | undefined): { error: Record<string, string> } {
    const error: Record<string, string> = { ...this.fields };
    if (this.fields.code)
      error.doc_url = `https://stripe.com/docs/error-codes/${this.fields.code.replace(/_/g, "-")}`;
    if (this.logged && requestLogUrl) error.request_log_url = requestLogUrl;
    const sorted: Record<string, string> = {};
    for (const key of Object.keys(error).sort()) sorted[key] = error[key]!;
    return { error: sorted };
  }
}

/** Stripe shows a key's prefix and last four characters and stars the rest. */
export function redactKey(key: string): string {
  const prefix = /^(sk|rk|pk)_(test|live)_/.exec(key)?.[0] ?? "";
  if (key.length <= prefix.length + 4) return key;
  return prefix + "*".repeat(key.length - prefix.length - 4) + key.slice(-4);
}

export function missingApiKey(): StripeHttpError {
  return new StripeHttpError(
    401,
    {
      type: "invalid_request_error",
      message:
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    },
    { "Www-Authenticate": 'Basic realm="Stripe"' },
    false,
  );
}

export function invalidApiKey(key: string): StripeHttpError {
  return new StripeHttpError(
    401,
    { type: "invalid_request_error", message: `Invalid API Key provided: ${redactKey(key)}` },
    { "Www-Authenticate": 'Basic realm="Stripe"' },
    false,
  );
}

export function accountInvalid(key: string, account: string): StripeHttpError {
  return new StripeHttpError(403, {
    type: "invalid_request_error",
    code: "account_invalid",
    message: `The provided key '${redactKey(key)}' does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`,
  });
}

export function resourceMissing(
  objectName: string,
  id: string,
  param: string,
  status: number,
): StripeHttpError {
  return new StripeHttpError(status, {
    type: "invalid_request_error",
    code: "resource_missing",
    message: `No such ${objectName}: '${id}'`,
    param,
  });
}

export function invalidInteger(param: string, value: string): StripeHttpError {
  return new StripeHttpError(400, {
    type: "invalid_request_error",
    code: "parameter_invalid_integer",
    message: `Invalid integer: ${value}`,
    param,
  });
}

export function integerTooSmall(param: string, min: number): StripeHttpError {
  return new StripeHttpError(400, {
    type: "invalid_request_error",
    code: "parameter_invalid_integer",
    message: `This value must be greater than or equal to ${min}.`,
    param,
  });
}

export function integerTooLarge(param: string, max: number, value: string): StripeHttpError {
  return new StripeHttpError(400, {
    type: "invalid_request_error",
    code: "parameter_invalid_integer",
    message: `This value must be less than or equal to ${max} (it currently is '${value}').`,
    param,
  });
}

export function exclusiveParameters(params: string[]): StripeHttpError {
  const names = [...params].sort();
  return new StripeHttpError(400, {
    type: "invalid_request_error",
    message: `You may only specify one of these parameters: ${names.join(", ")}.`,
    param: names[0]!,
  });
}

export function invalidValue(param: string, message: string): StripeHttpError {
  return new StripeHttpError(400, { type: "invalid_request_error", message, param });
}

export function unrecognizedUrl(method: string, path: string): StripeHttpError {
  return new StripeHttpError(404, {
    type: "invalid_request_error",
    message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
  });
}

/** The rate limiter's answer. Stripe sends no quota or Retry-After headers, only the reason. */
export function rateLimited(reason: "global-rate" | "endpoint-rate"): StripeHttpError {
  return new StripeHttpError(
    429,
    {
      type: "invalid_request_error",
      code: "rate_limit",
      message:
        "Request rate limit exceeded. You can learn more about rate limits here https://stripe.com/docs/rate-limits.",
    },
    { "Stripe-Rate-Limited-Reason": reason },
  );
}

/** A 429 that is not a rate limit: the object is locked. Stripe asks clients to retry it, and the SDK does. */
export function lockTimeout(): StripeHttpError {
  return new StripeHttpError(
    429,
    {
      type: "invalid_request_error",
      code: "lock_timeout",
      message:
        "This object cannot be accessed right now because another API request or Stripe process is currently accessing it. If you see this error intermittently, retry the request. If you see this error frequently and are making multiple concurrent requests to a single object, make your requests serially or at a lower rate.",
    },
    { "Stripe-Should-Retry": "true" },
  );
}

export function apiError(): StripeHttpError {
  return new StripeHttpError(500, { type: "api_error", message: "An unknown error occurred" });
}
