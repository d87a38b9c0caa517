/**
 * Reading GitHub's list endpoints: one page, checked at the door (an array of objects with a numeric `id`
 * and an `updated_at`), whether a next page exists (the `Link` header's rel="next"), and conditional requests:
 * the last ETag of each feed is sent as `If-None-Match`, and a 304 (which GitHub does not count against the
 * token's hourly quota) hands back the items of the answer it confirms.
 */
import { ProviderError, type ProviderHttp } from "../provider-http.js";

export interface GithubItem {
  id: number;
  updated_at: string;
  [field: string]: unknown;
}

export interface ListPage {
  items: GithubItem[];
  hasNext: boolean;
  /** GitHub answered 304: the items are those of the same request's last answer. */
  unchanged: boolean;
}

interface Remembered {
  url: string;
  etag: string;
  page: ListPage;
}

export class GithubLists {
  /** The last answer with an ETag per feed (a repository's issues, pulls, …): one request each. */
  private readonly remembered = new Map<string, Remembered>();

  constructor(private readonly http: ProviderHttp) {}

  /** One page of `path` with `query`; `feed` names whose ETag to keep (undefined: none kept). */
  async page(
    path: string,
    query: Record<string, string | number | undefined>,
    options: { feed?: string; signal?: AbortSignal } = {},
  ): Promise<ListPage> {
    const url = `${path}?${new URLSearchParams(
      Object.entries(query)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    )}`;
    const known = options.feed ? this.remembered.get(options.feed) : undefined;
    const sameRequest = known?.url === url ? known : undefined;
    const answer = await this.http.get(path, {
      query,
      accept: [304],
      ...(sameRequest ? { headers: { "if-none-match": sameRequest.etag } } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (answer.status === 304) {
      if (!sameRequest)
        throw new ProviderError(
          "invalid_answer",
          `github answered ${path} with 304 Not Modified to a request that named no ETag`,
        );
      return { ...sameRequest.page, unchanged: true };
    }
    if (!Array.isArray(answer.body))
      throw new ProviderError("invalid_answer", `github answered ${path} with something that is not a list`);
    const items = answer.body.map((item, i) => checkItem(item, `${path} [${i}]`));
    const page: ListPage = { items, hasNext: hasNextLink(answer.headers.get("link")), unchanged: false };
    const etag = answer.headers.get("etag");
    if (options.feed) {
      if (etag) this.remembered.set(options.feed, { url, etag, page });
      else this.remembered.delete(options.feed);
    }
    return page;
  }
}

function checkItem(value: unknown, where: string): GithubItem {
  const item = value as GithubItem;
  if (
    typeof item !== "object" ||
    item === null ||
    typeof item.id !== "number" ||
    !Number.isSafeInteger(item.id) ||
    typeof item.updated_at !== "string" ||
    Number.isNaN(Date.parse(item.updated_at))
  )
    throw new ProviderError(
      "invalid_answer",
      `github answered ${where} with an item without a numeric id or an updated_at time`,
    );
  return item;
}

/** Whether a `Link` header (RFC 8288, as GitHub sends it) has a rel="next" link. */
export function hasNextLink(link: string | null): boolean {
  if (!link) return false;
  return link.split(",").some((part) => /;\s*rel="?([^";]*\bnext\b[^";]*)"?/.test(part));
}
