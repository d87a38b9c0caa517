/**
 * A stateful GitHub REST API emulator over real HTTP on loopback, for tests of code that pulls from GitHub.
 * Tests change data through the methods here and point `@octokit/rest` (`baseUrl`) or any HTTP client at
 * `baseUrl`. README.md here lists what it covers.
 */
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { onCleanup } from "../../helpers/cleanup.js";
import { EmulatorClock } from "./clock.js";
import { Faults } from "./faults.js";
import { RateLimits, type SecondaryLimit } from "./rate-limits.js";
import {
  current,
  GithubData,
  type IssueFields,
  type MutationOptions,
  type Versioned,
} from "./repository-data.js";
import type { LoggedRequest } from "./request-log.js";
import { createGithubServer, type Token } from "./server.js";
import type { JsonObject } from "./shapes.js";

export { EmulatorClock, githubTime } from "./clock.js";
export type { FaultKind } from "./faults.js";
export { busiestWindow, type LoggedRequest } from "./request-log.js";
export type { JsonObject } from "./shapes.js";

export interface GithubEmulatorOptions {
  clock?: EmulatorClock;
}

export interface TokenOptions {
  /** `owner/name`s it may read (default: all). */
  repositories?: string[];
  /** Fine-grained permissions (default: both read). */
  permissions?: Partial<Token["permissions"]>;
}

export interface GithubEmulator {
  /** `http://127.0.0.1:<port>`: the API's base URL, for `new Octokit({ baseUrl })`. */
  baseUrl: string;
  clock: EmulatorClock;
  faults: Faults;
  /** Every request, in arrival order. */
  requests: LoggedRequest[];
  createRepository(fullName: string): JsonObject;
  createToken(options?: TokenOptions): string;
  revokeToken(token: string): void;
  /** The primary limit of every token: `limit` requests per `windowSeconds` (5,000 an hour by default). */
  setPrimaryLimit(limit: number, windowSeconds?: number, status?: 403 | 429): void;
  /** A secondary limit per token per second (none by default). */
  setSecondaryLimit(limit: SecondaryLimit | null): void;
  /** Changes show in lists `ms` after they are made (single objects show them at once). */
  setVisibilityDelay(ms: number): void;
  createIssue(repository: string, fields?: IssueFields, options?: MutationOptions): JsonObject;
  updateIssue(repository: string, number: number, fields: IssueFields, options?: MutationOptions): JsonObject;
  deleteIssue(repository: string, number: number): void;
  transferIssue(repository: string, number: number, to: string, options?: MutationOptions): JsonObject;
  createPull(
    repository: string,
    fields?: IssueFields & { head?: string },
    options?: MutationOptions,
  ): JsonObject;
  updatePull(
    repository: string,
    number: number,
    fields: IssueFields & { merged?: boolean },
    options?: MutationOptions,
  ): JsonObject;
  createComment(repository: string, issueNumber: number, body: string, options?: MutationOptions): JsonObject;
  updateComment(repository: string, id: number, body: string, options?: MutationOptions): JsonObject;
  deleteComment(repository: string, id: number): void;
  /** The live issues of a repository (not pull requests), as `GET …/issues/{number}` shows them now. */
  issues(repository: string): JsonObject[];
  pulls(repository: string): JsonObject[];
  comments(repository: string): JsonObject[];
  /** Runs `listener` for every admitted request just before it is answered. */
  onRequest(listener: (request: LoggedRequest) => void): () => void;
  close(): Promise<void>;
}

export async function startGithubEmulator(options: GithubEmulatorOptions = {}): Promise<GithubEmulator> {
  const clock = options.clock ?? new EmulatorClock();
  const tokens = new Map<string, Token>();
  const limits = new RateLimits();
  const faults = new Faults();
  const requests: LoggedRequest[] = [];
  const listeners = new Set<(request: LoggedRequest) => void>();
  let baseUrl = "http://127.0.0.1";
  const origin = () => baseUrl;
  let data: GithubData | undefined;
  const server = createGithubServer({
    get data() {
      return data!;
    },
    tokens,
    limits,
    faults,
    log: requests,
    listeners,
    origin,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  data = new GithubData(baseUrl, clock);
  const state = data;
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  onCleanup(close);
  const live = (rows: Iterable<Versioned>) =>
    [...rows]
      .filter((row) => !row.deleted)
      .sort((a, b) => a.id - b.id)
      .map((row) => structuredClone(current(row)));

  return {
    baseUrl,
    clock,
    faults,
    requests,
    createRepository: (fullName) => structuredClone(state.createRepository(fullName).object),
    createToken(tokenOptions = {}) {
      const token = `ghp_${randomBytes(18).toString("base64url").replace(/[-_]/g, "x")}`;
      tokens.set(token, {
        userId: 583231,
        repositories: tokenOptions.repositories
          ? new Set(tokenOptions.repositories.map((r) => r.toLowerCase()))
          : null,
        permissions: { issues: true, pull_requests: true, ...tokenOptions.permissions },
        revoked: false,
      });
      return token;
    },
    revokeToken(token) {
      const found = tokens.get(token);
      if (found) found.revoked = true;
    },
    setPrimaryLimit(limit, windowSeconds = 3600, status = 403) {
      limits.setPrimary(limit, windowSeconds);
      limits.primaryStatus = status;
    },
    setSecondaryLimit(limit) {
      limits.secondary = limit;
    },
    setVisibilityDelay(ms) {
      state.visibilityDelayMs = ms;
    },
    createIssue: (repository, fields, mutation) => state.createIssue(repository, fields, mutation),
    updateIssue: (repository, number, fields, mutation) =>
      state.updateIssue(repository, number, fields, mutation),
    deleteIssue: (repository, number) => state.deleteIssue(repository, number),
    transferIssue: (repository, number, to, mutation) =>
      state.transferIssue(repository, number, to, mutation),
    createPull: (repository, fields, mutation) => state.createPull(repository, fields, mutation),
    updatePull: (repository, number, fields, mutation) =>
      state.updatePull(repository, number, fields, mutation),
    createComment: (repository, issueNumber, body, mutation) =>
      state.createComment(repository, issueNumber, body, mutation),
    updateComment: (repository, id, body, mutation) => state.updateComment(repository, id, body, mutation),
    deleteComment: (repository, id) => state.deleteComment(repository, id),
    issues: (repository) =>
      live([...state.repository(repository).issues.values()].filter((row) => !row.facts.pullRequest)),
    pulls: (repository) => live(state.repository(repository).pulls.values()),
    comments: (repository) => live(state.repository(repository).comments.values()),
    onRequest(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close,
  };
}
