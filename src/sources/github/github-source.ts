/**
 * GitHub's source, over the REST API, for the repositories a sync names.
 *
 * - **Backfill**: issues and comments by a since walk from the beginning (github-walks.ts: no page is
 *   skipped when items change meanwhile); pull requests by `/pulls?state=all&sort=created&direction=asc`,
 *   page after page (pull requests are never deleted, so their pages do not shift). `state=all` everywhere:
 *   lists hide closed items by default.
 * - **Changes**: per repository, issues and comments updated since the last one seen (`since`, inclusive,
 *   re-reading a lookback of a few seconds: times are whole seconds, and a change may show late); pull
 *   requests, which have no `since`, by an updated-descending walk down to the bookmark. Each poll sends the
 *   feed's last ETag: a 304 costs no quota. `/issues` lists pull requests too: the `issues` collection
 *   keeps only true issues (no `pull_request` key), pull requests come from `/pulls`.
 * - **Deletes**: GitHub lists none (a deleted issue answers 410, a transferred one 301, to whoever asks for
 *   it by number, and nothing names it). So every `sweep_interval_hours` the cursor expires on purpose: the
 *   engine reads everything again and deletes, per collection, what was not read again (crash-safe; a
 *   sweep that fails half-way deletes nothing).
 * - **Ids**: an issue or a pull request is `owner/name#number`, the repository as GitHub spells it in the
 *   item (`repository_url`, `base.repo.full_name`); a comment, which has no number, GitHub's numeric `id`.
 *   An issue transferred to another repository has a new number there: the old key goes at the sweep.
 */
import { ProviderError, type ProviderHttp } from "../provider-http.js";
import type { BackfillPage, ChangesPage, PulledRecord, Source } from "../source.js";
import { type GithubCollection, isGithubCollection } from "./github-kind.js";
import { type GithubItem, GithubLists } from "./github-lists.js";
import { type GithubSettings, readGithubSettings } from "./github-settings.js";
import { type DescWalk, isoMinus, type SinceWalk, stepDesc, stepSince } from "./github-walks.js";

const perPage = 100;
/** How often the change feeds are asked while a backfill runs. */
const backfillPollMs = 30_000;

/** Where the changes of one repository stand, per feed. */
interface RepositoryCursor {
  issues?: SinceWalk;
  comments?: SinceWalk;
  pulls?: DescWalk;
}

export interface GithubCursor {
  /** When everything was last read (epoch ms): the next sweep is due a sweep interval later. */
  sweptAt: number;
  repositories: Record<string, RepositoryCursor>;
}

/** A backfill's position: which repository, and where in its list. */
interface BackfillToken {
  repository: number;
  since: string | null;
  page: number;
}

type Feed = "issues" | "comments" | "pulls";

export class GithubSource implements Source {
  readonly provider = "github";
  private readonly settings: GithubSettings;
  private readonly lists: GithubLists;
  /** When this process last asked for a backfill page, and the gap before that one (a backfill's pace). */
  private backfillAskedAt = Number.NEGATIVE_INFINITY;
  private backfillGapMs = 0;
  /** Collections whose backfill pages are being read and whose last page has not come yet. */
  private readonly backfillActive = new Set<string>();
  /** When the change feeds were last asked (0: not yet by this process). */
  private polledAt = 0;

  constructor(
    http: ProviderHttp,
    settings: Record<string, unknown>,
    private readonly now: () => number = Date.now,
  ) {
    this.settings = readGithubSettings(settings);
    this.lists = new GithubLists(http);
  }

  async verify(signal?: AbortSignal): Promise<void> {
    // reading one issue of each repository needs what pulling needs; a repository the token cannot see is a 404
    for (const repository of this.settings.repositories)
      await this.lists.page(
        `/repos/${repository}/issues`,
        { state: "all", per_page: 1 },
        signal ? { signal } : {},
      );
  }

  async changeMark(signal?: AbortSignal): Promise<GithubCursor> {
    const repositories: Record<string, RepositoryCursor> = {};
    for (const repository of this.settings.repositories) {
      const newest = async (path: string) => {
        const page = await this.lists.page(
          path,
          { state: "all", sort: "updated", direction: "desc", per_page: 1 },
          signal ? { signal } : {},
        );
        return page.items[0]?.updated_at ?? null;
      };
      // from the newest change GitHub shows now, by GitHub's own clock (ours may differ)
      repositories[repository] = {
        issues: {
          since: minusLookback(await newest(`/repos/${repository}/issues`), this.lookbackMs),
          page: 1,
        },
        comments: {
          since: minusLookback(await newest(`/repos/${repository}/issues/comments`), this.lookbackMs),
          page: 1,
        },
        pulls: { bookmark: await newest(`/repos/${repository}/pulls`), page: 1, top: null },
      };
    }
    return { sweptAt: this.now(), repositories };
  }

  async backfillPage(collection: string, token: string | null, signal?: AbortSignal): Promise<BackfillPage> {
    if (!isGithubCollection(collection))
      throw new ProviderError("refused", `github has no collection ${JSON.stringify(collection)}`);
    const asked = this.now();
    // a gap of more than two minutes is no pace: a new backfill (or sweep) began
    const gap = asked - this.backfillAskedAt;
    this.backfillGapMs = gap <= 120_000 ? gap : 0;
    this.backfillAskedAt = asked;
    this.backfillActive.add(collection);
    const page = await this.readBackfillPage(collection, token, signal);
    if (page.next === null) this.backfillActive.delete(collection);
    return page;
  }

  private async readBackfillPage(
    collection: GithubCollection,
    token: string | null,
    signal?: AbortSignal,
  ): Promise<BackfillPage> {
    const at = token === null ? { repository: 0, since: null, page: 1 } : readToken(token);
    const repository = this.settings.repositories[at.repository];
    if (repository === undefined) return { records: [], next: null };
    const opts = signal ? { signal } : {};
    let records: PulledRecord[];
    let next: { since: string | null; page: number } | null;
    if (collection === "pull_requests") {
      const page = await this.lists.page(
        `/repos/${repository}/pulls`,
        { state: "all", sort: "created", direction: "asc", per_page: perPage, page: at.page },
        opts,
      );
      records = page.items.map((item) => liveRecord(collection, repository, item));
      next = page.hasNext && page.items.length > 0 ? { since: null, page: at.page + 1 } : null;
    } else {
      const path =
        collection === "issues" ? `/repos/${repository}/issues` : `/repos/${repository}/issues/comments`;
      const walk: SinceWalk = { since: at.since, page: at.page };
      const page = await this.lists.page(path, sinceQuery(collection, walk), opts);
      // a backfill needs no lookback: what changes while it runs is read by the changes from the mark
      const step = stepSince(walk, page, 0);
      records = this.recordsOf(collection, repository, step.items);
      next = step.more ? step.next : null;
    }
    if (next) return { records, next: JSON.stringify({ repository: at.repository, ...next }) };
    const following = at.repository + 1;
    return {
      records,
      next:
        following < this.settings.repositories.length
          ? JSON.stringify({ repository: following, since: null, page: 1 } satisfies BackfillToken)
          : null,
    };
  }

  async changesSince(
    cursor: unknown,
    collections: readonly string[],
    signal?: AbortSignal,
  ): Promise<ChangesPage> {
    const from = readCursor(cursor);
    if (!from) return { expired: "the stored GitHub cursor is not one this version wrote" };
    const dueAt = from.sweptAt + this.settings.sweepIntervalHours * 3_600_000;
    if (this.now() >= dueAt && !this.backfilling())
      return {
        expired: `periodic sweep for deleted issues and comments (every ${this.settings.sweepIntervalHours} h): GitHub lists no deletes`,
      };
    // while a backfill reads pages, the feeds are asked at most every 30 s: each poll costs a request per
    // repository and collection, which the backfill's pages need more; the changes wait, none is lost
    if (this.backfilling() && this.now() - this.polledAt < backfillPollMs)
      return { records: [], cursor: from, more: false };
    this.polledAt = this.now();
    const feeds: Feed[] = [];
    if (collections.includes("issues")) feeds.push("issues");
    if (collections.includes("issue_comments")) feeds.push("comments");
    if (collections.includes("pull_requests")) feeds.push("pulls");
    const next: GithubCursor = { sweptAt: from.sweptAt, repositories: {} };
    const work = this.settings.repositories.flatMap((repository) => {
      const known = from.repositories[repository] ?? {};
      next.repositories[repository] = { ...known };
      return feeds.map((feed) => ({ repository, feed, known }));
    });
    // the first feed alone: a refused token or a spent quota shows there, before the others are asked;
    // then the rest side by side (the allotment paces them), the others given up at the first failure
    if (signal?.aborted) throw signal.reason;
    const local = new AbortController();
    // the runner's signal forwarded by hand, its listener removed at the end (it lives as long as the runner)
    const forward = () => local.abort(signal?.reason);
    signal?.addEventListener("abort", forward, { once: true });
    const run = async ({ repository, feed, known }: (typeof work)[number]) => {
      try {
        const step = await this.stepFeed(repository, feed, known, local.signal);
        next.repositories[repository]![feed] = step.next as never;
        return step;
      } catch (error) {
        local.abort(error);
        throw error;
      }
    };
    let done: Awaited<ReturnType<typeof run>>[];
    try {
      done = work.length === 0 ? [] : [await run(work[0]!), ...(await Promise.all(work.slice(1).map(run)))];
    } finally {
      signal?.removeEventListener("abort", forward);
    }
    return {
      records: done.flatMap((step) => step.records),
      cursor: next,
      more: done.some((step) => step.more),
    };
  }

  private async stepFeed(
    repository: string,
    feed: Feed,
    known: RepositoryCursor,
    signal?: AbortSignal,
  ): Promise<{ records: PulledRecord[]; next: SinceWalk | DescWalk; more: boolean }> {
    const key = `${repository}\u0000${feed}`;
    if (feed === "pulls") {
      const walk = known.pulls ?? { bookmark: null, page: 1, top: null };
      const page = await this.lists.page(
        `/repos/${repository}/pulls`,
        { state: "all", sort: "updated", direction: "desc", per_page: perPage, page: walk.page },
        { ...(walk.page === 1 ? { feed: key } : {}), ...(signal ? { signal } : {}) },
      );
      const step = stepDesc(walk, page, this.lookbackMs);
      return {
        records: step.items.map((item) => liveRecord("pull_requests", repository, item)),
        next: step.next,
        more: step.more,
      };
    }
    const collection = feed === "issues" ? "issues" : "issue_comments";
    const path = feed === "issues" ? `/repos/${repository}/issues` : `/repos/${repository}/issues/comments`;
    const walk = known[feed] ?? { since: null, page: 1 };
    const page = await this.lists.page(path, sinceQuery(collection, walk), {
      feed: key,
      ...(signal ? { signal } : {}),
    });
    const step = stepSince(walk, page, this.lookbackMs);
    return { records: this.recordsOf(collection, repository, step.items), next: step.next, more: step.more };
  }

  /**
   * Whether a backfill (or a sweep) is under way here: its pages are being asked for. A sweep due meanwhile
   * waits for it to end, so a sweep that takes longer than the interval is never started over half-way.
   */
  private backfilling(): boolean {
    return (
      this.backfillActive.size > 0 &&
      this.now() - this.backfillAskedAt < Math.max(5000, 3 * this.backfillGapMs)
    );
  }

  /** `/issues` lists pull requests too (with a `pull_request` key): they are not issues. */
  private recordsOf(
    collection: "issues" | "issue_comments",
    repository: string,
    items: GithubItem[],
  ): PulledRecord[] {
    return items
      .filter((item) => collection !== "issues" || item.pull_request === undefined)
      .map((item) => liveRecord(collection, repository, item));
  }

  private get lookbackMs(): number {
    return this.settings.lookbackSeconds * 1000;
  }
}

function sinceQuery(collection: "issues" | "issue_comments", walk: SinceWalk) {
  return {
    ...(collection === "issues" ? { state: "all" } : {}),
    sort: "updated",
    direction: "asc",
    per_page: perPage,
    page: walk.page,
    ...(walk.since !== null ? { since: walk.since } : {}),
  };
}

function minusLookback(newest: string | null, lookbackMs: number): string | null {
  return newest === null ? null : isoMinus(newest, lookbackMs);
}

function liveRecord(collection: GithubCollection, repository: string, item: GithubItem): PulledRecord {
  return {
    collection_id: collection,
    upstream_id: upstreamId(collection, repository, item),
    payload: item,
    deleted: false,
  };
}

/**
 * `owner/name#number` for an issue or a pull request, the repository as the item names it (GitHub's own
 * spelling, whatever case the settings use; `repository`, as listed, when it names none); a comment's
 * numeric `id`.
 */
function upstreamId(collection: GithubCollection, repository: string, item: GithubItem): string {
  if (collection === "issue_comments") return String(item.id);
  if (!Number.isSafeInteger(item.number))
    throw new ProviderError(
      "invalid_answer",
      `github listed an item of ${repository} without a number (id ${item.id})`,
    );
  const fromIssue =
    typeof item.repository_url === "string"
      ? /\/repos\/([^/]+\/[^/]+)$/.exec(item.repository_url)?.[1]
      : undefined;
  const base = item.base as { repo?: { full_name?: unknown } } | undefined;
  const fromPull = typeof base?.repo?.full_name === "string" ? base.repo.full_name : undefined;
  return `${fromIssue ?? fromPull ?? repository}#${item.number}`;
}

function readToken(token: string): BackfillToken {
  let parsed: BackfillToken | undefined;
  try {
    parsed = JSON.parse(token) as BackfillToken;
  } catch {
    parsed = undefined;
  }
  if (
    typeof parsed !== "object" ||
    parsed === null ||
    !Number.isInteger(parsed.repository) ||
    !Number.isInteger(parsed.page) ||
    (parsed.since !== null && typeof parsed.since !== "string")
  )
    throw new ProviderError(
      "invalid_answer",
      "the stored GitHub backfill position is not one this version wrote",
    );
  return parsed;
}

function readCursor(cursor: unknown): GithubCursor | undefined {
  const c = cursor as GithubCursor;
  if (
    typeof c !== "object" ||
    c === null ||
    typeof c.sweptAt !== "number" ||
    typeof c.repositories !== "object" ||
    c.repositories === null
  )
    return undefined;
  return c;
}
