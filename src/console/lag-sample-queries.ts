/** SQL for the lag samples behind the console's lag chart. One function per statement. */
import type { Queryable } from "../db/queryable.js";

export interface LagSample {
  at: Date;
  records: number;
  seconds: number;
}

/**
 * One sample per consumer, all as one parameter each whatever their number; consumers deleted meanwhile
 * are skipped.
 */
export async function insertLagSamples(
  db: Queryable,
  samples: { consumerId: string; records: number; seconds: number }[],
): Promise<void> {
  await db.query(
    `insert into sequin_lag_samples (consumer_id, records, seconds)
     select s.consumer_id, s.records, s.seconds
     from unnest($1::uuid[], $2::bigint[], $3::float8[]) as s (consumer_id, records, seconds)
     join sequin_consumers c on c.id = s.consumer_id`,
    [samples.map((s) => s.consumerId), samples.map((s) => s.records), samples.map((s) => s.seconds)],
  );
}

export async function deleteLagSamplesBefore(db: Queryable, before: Date): Promise<number> {
  const result = await db.query("delete from sequin_lag_samples where at < $1", [before]);
  return result.rowCount ?? 0;
}

/** A consumer's samples since `since`, oldest first. */
export async function selectLagSamples(db: Queryable, consumerId: string, since: Date): Promise<LagSample[]> {
  const { rows } = await db.query<{ at: Date; records: string; seconds: number }>(
    `select at, records, seconds from sequin_lag_samples
     where consumer_id = $1 and at >= $2 order by at`,
    [consumerId, since],
  );
  return rows.map((r) => ({ at: r.at, records: Number(r.records), seconds: r.seconds }));
}

/**
 * A consumer's samples since `since` and since it was last started (its latest move out of `inactive`),
 * oldest first: none while it has never been started.
 */
export async function selectLagSamplesSinceStart(
  db: Queryable,
  consumerId: string,
  since: Date,
): Promise<LagSample[]> {
  const { rows } = await db.query<{ at: Date; records: string; seconds: number }>(
    `select at, records, seconds from sequin_lag_samples
     where consumer_id = $1 and at >= $2
       and at >= (select max(e.at) from sequin_consumer_events e
                  where e.consumer_id = $1 and e.from_state = 'inactive')
     order by at`,
    [consumerId, since],
  );
  return rows.map((r) => ({ at: r.at, records: Number(r.records), seconds: r.seconds }));
}
