/**
 * Salesforce's REST errors: an array of `{message, errorCode}` (fields: `fields` for a bad field), with the
 * status Salesforce gives each; the OAuth token endpoint answers `{error, error_description}` instead.
 */
export class SalesforceHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }

  body(): unknown {
    return [{ message: this.message, errorCode: this.errorCode }];
  }
}

/** The token endpoint's errors, in OAuth's shape. */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }

  body(): unknown {
    return { error: this.error, error_description: this.description };
  }
}

export const invalidSession = () =>
  new SalesforceHttpError(401, "INVALID_SESSION_ID", "Session expired or invalid");

export const totalRequestsExceeded = () =>
  new SalesforceHttpError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.");

export const concurrentRequestsExceeded = () =>
  new SalesforceHttpError(
    403,
    "REQUEST_LIMIT_EXCEEDED",
    "ConcurrentPerOrgLongTxn Limit exceeded. Number of long-running requests is more than the limit.",
  );

export const invalidQueryLocator = () =>
  new SalesforceHttpError(400, "INVALID_QUERY_LOCATOR", "invalid query locator");

export const malformedQuery = (detail: string) => new SalesforceHttpError(400, "MALFORMED_QUERY", detail);

export const invalidField = (field: string, object: string) =>
  new SalesforceHttpError(
    400,
    "INVALID_FIELD",
    `\nSELECT ${field} FROM ${object}\n       ^\nERROR at Row:1:Column:8\nNo such column '${field}' on entity '${object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`,
  );

export const invalidType = (object: string) =>
  new SalesforceHttpError(
    400,
    "INVALID_TYPE",
    `sObject type '${object}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`,
  );

export const notFound = (what = "The requested resource does not exist") =>
  new SalesforceHttpError(404, "NOT_FOUND", what);

export const invalidDateRange = (detail: string) =>
  new SalesforceHttpError(400, "INVALID_REPLICATION_DATE", detail);

export const unknownException = () =>
  new SalesforceHttpError(
    500,
    "UNKNOWN_EXCEPTION",
    "An unexpected error occurred. Please include this ErrorId if you contact support: 1234567890-12345 (-1234567890)",
  );

export const serverUnavailable = () =>
  new SalesforceHttpError(503, "SERVER_UNAVAILABLE", "Server temporarily unavailable.");
