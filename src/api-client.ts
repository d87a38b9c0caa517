/**
 * The one client of our own Management API, used by the CLI's commands, `config` plan/apply/export and the
 * demo: read the syncs, targets and consumers; create, change, start, pause and delete them. Every refusal
 * becomes an ApiRefusal with the server's code, summary and details (e.g. a table's problems); no answer at
 * all (or not a Sequin server's) becomes ServerUnreachable.
 */
import type { ConsumerView, VerifyResult } from "./consumer/index.js";
import type { SourceView } from "./sources/index.js";
import type { Sync } from "./stream/index.js";
import type { TargetView } from "./targets/index.js";
import type { GeneratedView, ViewRequest } from "./views/index.js";

/** A sync as the API shows it: with its source (never its credentials) when the service pulls it. */
export type SyncView = Sync & { source?: SourceView };

export interface ServerState {
  syncs: SyncView[];
  targets: TargetView[];
  consumers: ConsumerView[];
}

export interface TableProblem {
  kind: string;
  message: string;
  fix_sql?: string;
}

export class ServerUnreachable extends Error {
  override name = "ServerUnreachable";
}

/** The server answered with an error. */
export class ApiRefusal extends Error {
  override name = "ApiRefusal";
  constructor(
    readonly status: number,
    readonly code: string,
    readonly summary: string,
    readonly validationErrors: Record<string, string[]> | undefined,
    readonly problems: TableProblem[],
  ) {
    const fields = Object.entries(validationErrors ?? {}).map(([f, m]) => `${f}: ${m.join("; ")}`);
    super(fields.length > 0 ? `${summary} (${fields.join(", ")})` : summary);
  }
}

const timeoutMs = 30_000;

export class ApiClient {
  /**
   * @param where how messages name the server, e.g. `the server at SEQUIN_URL=http://…`
   */
  constructor(
    private readonly url: string,
    private readonly token: string,
    readonly where = `the server at ${url}`,
  ) {}

  async state(): Promise<ServerState> {
    const [syncs, targets, consumers] = await Promise.all([
      this.request<{ data: SyncView[] }>("GET", "/v1/syncs"),
      this.request<{ data: TargetView[] }>("GET", "/v1/targets/postgres"),
      this.request<{ data: ConsumerView[] }>("GET", "/v1/consumers/postgres"),
    ]);
    return { syncs: syncs.data, targets: targets.data, consumers: consumers.data };
  }

  verify(consumerId: string): Promise<VerifyResult> {
    return this.request("POST", `/v1/consumers/postgres/${consumerId}/verify`);
  }

  /** A typed view of one collection of the consumer's table; `apply` also runs it in the target. */
  generateView(consumerId: string, view: ViewRequest, apply: boolean): Promise<GeneratedView> {
    return this.request(
      "POST",
      `/v1/consumers/postgres/${consumerId}/views${apply ? "?apply=true" : ""}`,
      view,
    );
  }

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(new URL(path, this.url), {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          accept: "application/json",
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ServerUnreachable(
        `cannot reach ${this.where}: ${reason(error)}; is \`sequin start\` running there?`,
      );
    }
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ServerUnreachable(
        `${this.where} did not answer as a Sequin server (HTTP ${response.status})`,
      );
    }
    if (response.ok) return parsed as T;
    const envelope = parsed as {
      code?: string;
      summary?: string;
      validation_errors?: Record<string, string[]>;
      problems?: TableProblem[];
    };
    if (response.status === 401) {
      throw new ServerUnreachable(`${this.where} refused the token in SEQUIN_API_TOKEN: ${envelope.summary}`);
    }
    throw new ApiRefusal(
      response.status,
      envelope.code ?? "unknown",
      envelope.summary ?? `HTTP ${response.status}`,
      envelope.validation_errors,
      envelope.problems ?? [],
    );
  }
}

function reason(error: unknown): string {
  if (error instanceof Error && error.name === "TimeoutError")
    return `no answer within ${timeoutMs / 1000} s`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message ?? cause?.code ?? (error as Error).message;
}
