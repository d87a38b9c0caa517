/**
 * The emulator's state: repositories with their issues, pull requests (each also an issue, sharing its
 * number, as on GitHub) and issue comments. Every change stamps `updated_at` with the clock's second and
 * keeps the object's versions with when each becomes visible in lists (a visibility delay a test sets: the
 * single-object endpoints show the newest at once, lists catch up later). A deleted issue answers 410; a
 * transferred one moves to another repository keeping its id, with a new number, and its old address
 * answers 301 to the new one.
 */
import { type EmulatorClock, githubTime } from "./clock.js";
import {
  commentObject,
  type IssueFacts,
  issueObject,
  type JsonObject,
  type PullFacts,
  pullObject,
  repositoryObject,
  userObject,
} from "./shapes.js";

export interface Versioned {
  id: number;
  /** Clock ms at creation (the order of `sort=created`). */
  created: number;
  versions: { object: JsonObject; visibleAt: number }[];
  deleted: boolean;
}

export interface IssueRow extends Versioned {
  facts: IssueFacts;
  /** Where a transferred issue went. */
  movedTo?: { repositoryId: number; number: number };
}

export interface PullRow extends Versioned {
  facts: PullFacts;
}

export interface CommentRow extends Versioned {
  issueNumber: number;
  body: string;
  createdAt: string;
  updatedAt: string;
}

export interface Repository {
  id: number;
  fullName: string;
  object: JsonObject;
  issues: Map<number, IssueRow>;
  pulls: Map<number, PullRow>;
  comments: Map<number, CommentRow>;
  nextNumber: number;
}

/** What a mutation may set; `at` chooses the clock ms it is stamped with. */
export interface IssueFields {
  title?: string;
  body?: string | null;
  state?: "open" | "closed";
  labels?: string[];
}

export interface MutationOptions {
  at?: number;
}

/** The newest version lists show at `now`, or undefined while none is visible yet. */
export function listed(row: Versioned, now: number): JsonObject | undefined {
  if (row.deleted) return undefined;
  for (let i = row.versions.length - 1; i >= 0; i--)
    if (row.versions[i]!.visibleAt <= now) return row.versions[i]!.object;
  return undefined;
}

export function current(row: Versioned): JsonObject {
  return row.versions.at(-1)!.object;
}

export class GithubData {
  readonly repositories = new Map<string, Repository>();
  private nextId = 1001;
  visibilityDelayMs = 0;
  readonly user: JsonObject;

  constructor(
    readonly api: string,
    readonly clock: EmulatorClock,
  ) {
    this.user = userObject(api, "octocat", 583231);
  }

  createRepository(fullName: string): Repository {
    const [owner, name] = fullName.split("/") as [string, string];
    const id = this.nextId++;
    const createdAt = githubTime(this.clock.nowMs());
    const object = repositoryObject(
      { api: this.api, id, owner, name, ownerId: 583231, createdAt },
      0,
      createdAt,
    );
    const repository: Repository = {
      id,
      fullName,
      object,
      issues: new Map(),
      pulls: new Map(),
      comments: new Map(),
      nextNumber: 1,
    };
    this.repositories.set(fullName.toLowerCase(), repository);
    return repository;
  }

  repository(fullName: string): Repository {
    const found = this.repositories.get(fullName.toLowerCase());
    if (!found) throw new Error(`the emulator has no repository ${fullName}`);
    return found;
  }

  repositoryById(id: number): Repository | undefined {
    return [...this.repositories.values()].find((r) => r.id === id);
  }

  createIssue(fullName: string, fields: IssueFields = {}, options: MutationOptions = {}): JsonObject {
    const repository = this.repository(fullName);
    const at = this.stamp(options);
    const number = repository.nextNumber++;
    const row: IssueRow = {
      id: this.nextId++,
      created: options.at ?? this.clock.nowMs(),
      versions: [],
      deleted: false,
      facts: {
        api: this.api,
        repository: repository.fullName,
        id: 0,
        number,
        title: fields.title ?? `Issue ${number}`,
        body: fields.body ?? null,
        state: fields.state ?? "open",
        labels: fields.labels ?? [],
        user: this.user,
        comments: 0,
        createdAt: at,
        updatedAt: at,
        closedAt: fields.state === "closed" ? at : null,
      },
    };
    row.facts.id = row.id;
    repository.issues.set(number, row);
    return this.publishIssue(row, options);
  }

  updateIssue(
    fullName: string,
    number: number,
    fields: IssueFields,
    options: MutationOptions = {},
  ): JsonObject {
    const row = this.liveIssue(fullName, number);
    const at = this.stamp(options);
    const facts = row.facts;
    if (fields.title !== undefined) facts.title = fields.title;
    if (fields.body !== undefined) facts.body = fields.body;
    if (fields.labels !== undefined) facts.labels = fields.labels;
    if (fields.state !== undefined && fields.state !== facts.state) {
      facts.state = fields.state;
      facts.closedAt = fields.state === "closed" ? at : null;
    }
    facts.updatedAt = at;
    const pull = this.repository(fullName).pulls.get(number);
    if (pull) {
      Object.assign(pull.facts, {
        title: facts.title,
        body: facts.body,
        labels: facts.labels,
        state: facts.state,
        closedAt: facts.closedAt,
        updatedAt: at,
      });
      this.publish(pull, pullObject(pull.facts), options);
    }
    return this.publishIssue(row, options);
  }

  /** Deletes an issue (its comments go with it): lists stop showing it, its address answers 410. */
  deleteIssue(fullName: string, number: number): void {
    const repository = this.repository(fullName);
    const row = this.liveIssue(fullName, number);
    if (repository.pulls.has(number)) throw new Error("GitHub does not delete pull requests");
    row.deleted = true;
    for (const comment of repository.comments.values())
      if (comment.issueNumber === number) comment.deleted = true;
  }

  /** Moves an issue to another repository: same id, the next number there; the old address answers 301. */
  transferIssue(
    fullName: string,
    number: number,
    toFullName: string,
    options: MutationOptions = {},
  ): JsonObject {
    const from = this.repository(fullName);
    const to = this.repository(toFullName);
    const row = this.liveIssue(fullName, number);
    if (from.pulls.has(number)) throw new Error("GitHub does not transfer pull requests");
    const moved: IssueRow = {
      ...row,
      versions: [],
      facts: { ...row.facts, repository: to.fullName, number: to.nextNumber++, comments: 0 },
    };
    row.deleted = true;
    row.movedTo = { repositoryId: to.id, number: moved.facts.number };
    for (const comment of from.comments.values()) if (comment.issueNumber === number) comment.deleted = true;
    to.issues.set(moved.facts.number, moved);
    moved.facts.updatedAt = this.stamp(options);
    return this.publishIssue(moved, options);
  }

  createPull(
    fullName: string,
    fields: IssueFields & { head?: string } = {},
    options: MutationOptions = {},
  ): JsonObject {
    const issue = this.createIssue(fullName, fields, options);
    const repository = this.repository(fullName);
    const issueRow = repository.issues.get(issue.number as number)!;
    issueRow.facts.pullRequest = { mergedAt: null };
    this.publishIssue(issueRow, options);
    const row: PullRow = {
      id: this.nextId++,
      created: issueRow.created,
      versions: [],
      deleted: false,
      facts: {
        ...issueRow.facts,
        id: 0,
        repositoryObject: repository.object,
        head: fields.head ?? `feature-${issueRow.facts.number}`,
        mergedAt: null,
      },
    };
    row.facts.id = row.id;
    repository.pulls.set(issueRow.facts.number, row);
    return this.publish(row, pullObject(row.facts), options);
  }

  /** A pull request's change: its issue (title, state, labels) changes with it, as on GitHub. */
  updatePull(
    fullName: string,
    number: number,
    fields: IssueFields & { merged?: boolean },
    options: MutationOptions = {},
  ): JsonObject {
    const repository = this.repository(fullName);
    const row = repository.pulls.get(number);
    if (!row) throw new Error(`no pull request ${fullName}#${number}`);
    if (fields.merged) {
      const at = this.stamp(options);
      row.facts.mergedAt = at;
      repository.issues.get(number)!.facts.pullRequest = { mergedAt: at };
    }
    const state = fields.merged ? "closed" : fields.state;
    this.updateIssue(fullName, number, { ...fields, ...(state ? { state } : {}) }, options);
    return current(row);
  }

  createComment(
    fullName: string,
    issueNumber: number,
    body: string,
    options: MutationOptions = {},
  ): JsonObject {
    const repository = this.repository(fullName);
    const issue = this.liveIssue(fullName, issueNumber);
    const at = this.stamp(options);
    const row: CommentRow = {
      id: this.nextId++,
      created: options.at ?? this.clock.nowMs(),
      versions: [],
      deleted: false,
      issueNumber,
      body,
      createdAt: at,
      updatedAt: at,
    };
    repository.comments.set(row.id, row);
    // a new comment changes its issue: the count, and updated_at
    issue.facts.comments += 1;
    issue.facts.updatedAt = at;
    this.publishIssue(issue, options);
    return this.publishComment(repository, row, options);
  }

  updateComment(fullName: string, id: number, body: string, options: MutationOptions = {}): JsonObject {
    const repository = this.repository(fullName);
    const row = repository.comments.get(id);
    if (!row || row.deleted) throw new Error(`no comment ${id} in ${fullName}`);
    row.body = body;
    row.updatedAt = this.stamp(options);
    return this.publishComment(repository, row, options);
  }

  deleteComment(fullName: string, id: number, options: MutationOptions = {}): void {
    const repository = this.repository(fullName);
    const row = repository.comments.get(id);
    if (!row || row.deleted) throw new Error(`no comment ${id} in ${fullName}`);
    row.deleted = true;
    const issue = repository.issues.get(row.issueNumber)!;
    issue.facts.comments -= 1;
    issue.facts.updatedAt = this.stamp(options);
    this.publishIssue(issue, options);
  }

  private liveIssue(fullName: string, number: number): IssueRow {
    const row = this.repository(fullName).issues.get(number);
    if (!row || row.deleted) throw new Error(`no issue ${fullName}#${number}`);
    return row;
  }

  private stamp(options: MutationOptions): string {
    return githubTime(options.at ?? this.clock.nowMs());
  }

  private publishIssue(row: IssueRow, options: MutationOptions): JsonObject {
    return this.publish(row, issueObject(row.facts), options);
  }

  private publishComment(repository: Repository, row: CommentRow, options: MutationOptions): JsonObject {
    return this.publish(
      row,
      commentObject({
        api: this.api,
        repository: repository.fullName,
        id: row.id,
        issueNumber: row.issueNumber,
        body: row.body,
        user: this.user,
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      }),
      options,
    );
  }

  private publish(row: Versioned, object: JsonObject, options: MutationOptions): JsonObject {
    const now = options.at ?? this.clock.nowMs();
    row.versions.push({ object, visibleAt: now + this.visibilityDelayMs });
    // versions no list can show any more are dropped
    const now2 = this.clock.nowMs();
    while (row.versions.length > 1 && row.versions[1]!.visibleAt <= now2) row.versions.shift();
    return structuredClone(object);
  }
}
