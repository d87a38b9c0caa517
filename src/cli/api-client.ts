/**
 * A client of a running server's Management API, for the commands that talk to one (`status`, …): the
 * server at SEQUIN_URL, with SEQUIN_API_TOKEN. Every way of not getting an answer becomes a
 * ServerUnavailable whose message names the variable to check.
 */
export class ServerUnavailable extends Error {
  override name = "ServerUnavailable";
}

const timeoutMs = 10_000;

export class ApiClient {
  constructor(
    private readonly url: string,
    private readonly token: string | undefined,
  ) {}

  async get<T>(path: string): Promise<T> {
    const where = `the server at SEQUIN_URL=${this.url}`;
    if (!this.token) {
      throw new ServerUnavailable(
        `SEQUIN_API_TOKEN is not set: set it to an API token of ${where} (the one printed at its first start)`,
      );
    }
    let response: Response;
    try {
      response = await fetch(new URL(path, this.url), {
        headers: { authorization: `Bearer ${this.token}`, accept: "application/json" },
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ServerUnavailable(
        `cannot reach ${where}: ${reason(error)}; is \`sequin start\` running there?`,
      );
    }
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ServerUnavailable(`${where} did not answer as a Sequin server (HTTP ${response.status})`);
    }
    const summary = (body as { summary?: unknown }).summary;
    if (response.status === 401) {
      throw new ServerUnavailable(`${where} refused the token in SEQUIN_API_TOKEN: ${String(summary)}`);
    }
    if (!response.ok) {
      throw new ServerUnavailable(`${where} answered HTTP ${response.status}: ${String(summary ?? text)}`);
    }
    return body as T;
  }
}

function reason(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError")
    return `no answer within ${timeoutMs / 1000} s`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message ?? cause?.code ?? (error as Error).message;
}
