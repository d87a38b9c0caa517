/**
 * The Salesforce REST calls a source makes, each answer checked at the door: describe, a query or queryAll
 * batch (and the batch a `nextRecordsUrl` names), and the delete log. Every answer's `Sforce-Limit-Info`
 * and `Date` are noted: the org's daily usage (a quota guard keeps the sync within its share of it) and
 * the org's clock (the one that stamps SystemModstamp, so change windows are measured on it).
 */
import { type ProviderAnswer, ProviderError, type ProviderHttp } from "../provider-http.js";
import { apiPath } from "./salesforce-kind.js";
import { apiUsage } from "./salesforce-rules.js";

export interface SalesforceRecord {
  Id: string;
  [field: string]: unknown;
}

export interface QueryBatch {
  records: SalesforceRecord[];
  done: boolean;
  nextRecordsUrl: string | null;
}

export interface DescribedObject {
  /** The fields a query selects: every one but binary ones (a query returns a URL for those). */
  fields: string[];
  hasIsDeleted: boolean;
}

export interface DeletedLog {
  ids: string[];
  earliestMs: number;
  latestCoveredMs: number;
}

/** How long a usage past the sync's share holds requests before one is let through to look again. */
const quotaRecheckMs = 30_000;

export class SalesforceApi {
  /** The org's clock as of the last answer (epoch ms), and our clock then. */
  private serverClock: { server: number; local: number } | undefined;
  private usage: { used: number; limit: number; at: number } | undefined;

  constructor(
    private readonly http: ProviderHttp,
    private readonly quotaPercent: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The org's time now, by the last answer's Date (advanced by our clock since), or undefined. */
  serverNow(): number | undefined {
    return this.serverClock && this.serverClock.server + (this.now() - this.serverClock.local);
  }

  async get(path: string, query?: Record<string, string>, signal?: AbortSignal): Promise<ProviderAnswer> {
    this.guardQuota();
    let answer: ProviderAnswer;
    try {
      answer = await this.http.get(path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}) });
    } catch (error) {
      if (error instanceof ProviderError && error.details.code === "REQUEST_LIMIT_EXCEEDED")
        throw new ProviderError(
          "unavailable",
          `salesforce: the org's daily API requests are spent (REQUEST_LIMIT_EXCEEDED: ${error.reason}); pulling resumes by itself once its rolling 24-hour count falls`,
          { ...error.details },
        );
      throw error;
    }
    const date = Date.parse(answer.headers.get("date") ?? "");
    if (!Number.isNaN(date)) this.serverClock = { server: date, local: this.now() };
    const usage = apiUsage(answer.headers);
    if (usage) this.usage = { ...usage, at: this.now() };
    return answer;
  }

  async describe(object: string, signal?: AbortSignal): Promise<DescribedObject> {
    const where = `${apiPath}/sobjects/${object}/describe`;
    const body = (await this.get(where, undefined, signal)).body as { fields?: unknown };
    const fields = Array.isArray(body?.fields) ? (body.fields as { name?: unknown; type?: unknown }[]) : null;
    if (!fields || fields.some((f) => typeof f?.name !== "string" || typeof f?.type !== "string"))
      throw new ProviderError(
        "invalid_answer",
        `salesforce answered ${where} without a list of named, typed fields`,
      );
    const names = fields.map((f) => f.name as string);
    if (!names.includes("Id") || !names.includes("SystemModstamp"))
      throw new ProviderError(
        "refused",
        `salesforce's ${object} has no Id or SystemModstamp field: its changes cannot be followed`,
      );
    return {
      fields: fields.filter((f) => f.type !== "base64").map((f) => f.name as string),
      hasIsDeleted: names.includes("IsDeleted"),
    };
  }

  /** The first batch of a query (`all`: queryAll, which also shows the recycle bin). */
  async query(soql: string, all: boolean, signal?: AbortSignal): Promise<QueryBatch> {
    const where = `${apiPath}/${all ? "queryAll" : "query"}`;
    return checkBatch((await this.get(where, { q: soql }, signal)).body, where);
  }

  /** The batch a `nextRecordsUrl` names; a dead locator is a refusal with code INVALID_QUERY_LOCATOR. */
  async more(nextRecordsUrl: string, signal?: AbortSignal): Promise<QueryBatch> {
    // a path (as Salesforce sends it) or a whole URL; ProviderHttp keeps it on the sync's base_url
    const path = new URL(nextRecordsUrl, "http://relative").pathname;
    if (!/^\/services\/data\/v[\d.]+\/query(All)?\/[^/]+$/.test(path))
      throw new ProviderError(
        "invalid_answer",
        `salesforce named a next batch outside its query API: ${nextRecordsUrl}`,
      );
    return checkBatch((await this.get(nextRecordsUrl, undefined, signal)).body, `${apiPath}/query/…`);
  }

  /** The delete log of an object between two times (Salesforce reads it by whole minutes). */
  async deleted(object: string, startMs: number, endMs: number, signal?: AbortSignal): Promise<DeletedLog> {
    const where = `${apiPath}/sobjects/${object}/deleted/`;
    const answer = await this.get(where, { start: soqlDatetime(startMs), end: soqlDatetime(endMs) }, signal);
    const body = answer.body as {
      deletedRecords?: unknown;
      earliestDateAvailable?: unknown;
      latestDateCovered?: unknown;
    };
    const records = Array.isArray(body?.deletedRecords) ? (body.deletedRecords as { id?: unknown }[]) : null;
    const earliestMs = parseDatetime(body?.earliestDateAvailable);
    const latestCoveredMs = parseDatetime(body?.latestDateCovered);
    if (
      !records ||
      records.some((r) => typeof r?.id !== "string") ||
      earliestMs === undefined ||
      latestCoveredMs === undefined
    )
      throw new ProviderError(
        "invalid_answer",
        `salesforce answered ${where} without deletedRecords [{id}], earliestDateAvailable and latestDateCovered`,
      );
    return { ids: records.map((r) => r.id as string), earliestMs, latestCoveredMs };
  }

  /**
   * Past the sync's share of the org's daily requests (as the last answer said), requests wait: the sync is
   * failing meanwhile; one goes through every 30 s to look again.
   */
  private guardQuota(): void {
    const usage = this.usage;
    if (!usage || this.now() - usage.at >= quotaRecheckMs) return;
    const share = Math.floor((usage.limit * this.quotaPercent) / 100);
    if (usage.used < share) return;
    throw new ProviderError(
      "unavailable",
      `salesforce: the org has used ${usage.used} of its ${usage.limit} daily API requests, this sync's share is ${this.quotaPercent}% (${share}); pulling resumes by itself once the rolling 24-hour count falls below it`,
    );
  }
}

function checkBatch(body: unknown, where: string): QueryBatch {
  const b = body as { records?: unknown; done?: unknown; nextRecordsUrl?: unknown };
  if (!Array.isArray(b?.records) || typeof b.done !== "boolean")
    throw new ProviderError("invalid_answer", `salesforce answered ${where} without records and done`);
  if (!b.done && typeof b.nextRecordsUrl !== "string")
    throw new ProviderError(
      "invalid_answer",
      `salesforce answered ${where} with done false and no nextRecordsUrl`,
    );
  b.records.forEach((record, i) => {
    const r = record as SalesforceRecord;
    if (typeof r !== "object" || r === null || typeof r.Id !== "string" || !/^[A-Za-z0-9]{15,18}$/.test(r.Id))
      throw new ProviderError(
        "invalid_answer",
        `salesforce answered ${where} with records[${i}] without an Id`,
      );
  });
  return {
    records: b.records as SalesforceRecord[],
    done: b.done,
    nextRecordsUrl: b.done ? null : (b.nextRecordsUrl as string),
  };
}

/** Salesforce's datetimes (`2024-05-01T10:00:00.000+0000`) as epoch ms; undefined when unreadable. */
export function parseDatetime(value: unknown): number | undefined {
  if (typeof value !== "string") return undefined;
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, "$1:$2"));
  return Number.isNaN(ms) ? undefined : ms;
}

/** A SOQL datetime literal (whole seconds, UTC): `2024-05-01T10:00:00Z`. */
export function soqlDatetime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}
