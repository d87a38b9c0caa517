/**
 * GitHub's error answers as the REST API sends them: `{message, documentation_url, status}` (status a
 * string), with the headers that go with them. Wording from GitHub's documentation and its answers
 * (https://docs.github.com/rest/using-the-rest-api/troubleshooting-the-rest-api and the rate-limit page).
 */
export class GithubHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(String(body.message));
  }
}

const docs = "https://docs.github.com/rest";

function basic(status: number, message: string, documentation: string): GithubHttpError {
  return new GithubHttpError(status, { message, documentation_url: documentation, status: String(status) });
}

export const badCredentials = () => basic(401, "Bad credentials", docs);

export const notFound = (documentation = docs) => basic(404, "Not Found", documentation);

export const notAccessible = (documentation: string) =>
  basic(403, "Resource not accessible by personal access token", documentation);

export const issueDeleted = () =>
  basic(410, "This issue was deleted", "https://docs.github.com/rest/issues/issues#get-an-issue");

export function movedPermanently(location: string): GithubHttpError {
  return new GithubHttpError(
    301,
    {
      message: "Moved Permanently",
      url: location,
      documentation_url:
        "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects",
    },
    { location },
  );
}

export function validationFailed(field: string, value: string): GithubHttpError {
  return new GithubHttpError(422, {
    message: "Validation Failed",
    errors: [{ resource: "Issue", field, code: "invalid", value }],
    documentation_url: "https://docs.github.com/rest/issues/issues#list-repository-issues",
    status: "422",
  });
}

/** The primary limit spent: 403 with `x-ratelimit-remaining: 0` (the server adds the quota headers). */
export function primaryLimit(userId: number, requestId: string, status: 403 | 429 = 403): GithubHttpError {
  return basic(
    status,
    `API rate limit exceeded for user ID ${userId}. If you reach out to GitHub Support for help, please include the request ID ${requestId} and timestamp ${new Date().toISOString().replace("T", " ").slice(0, 19)} UTC.`,
    "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
  );
}

/** A secondary limit: 403 or 429, the message @octokit/plugin-throttling matches, `retry-after`. */
export function secondaryLimit(
  requestId: string,
  retryAfterSeconds: number | null,
  status: 403 | 429 = 403,
): GithubHttpError {
  const error = basic(
    status,
    `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId} and timestamp ${new Date().toISOString().replace("T", " ").slice(0, 19)} UTC.`,
    "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
  );
  if (retryAfterSeconds !== null) error.headers["retry-after"] = String(retryAfterSeconds);
  return error;
}

export const serverError = () => new GithubHttpError(500, { message: "Server Error" });
