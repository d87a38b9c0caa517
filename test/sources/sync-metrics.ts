/** One sync's series in `GET /metrics`, as the providers' sync tests check them. */
import { waitFor } from "../helpers/wait.js";

export interface SyncSeries {
  state: string | undefined;
  healthy: number | undefined;
  requests: number | undefined;
  throttled: number | undefined;
}

/** The sync's series now, read from the text format (labels `sync` and `provider`). */
export async function syncSeries(serviceUrl: string, sync: string, provider: string): Promise<SyncSeries> {
  const text = await fetch(`${serviceUrl}/metrics`).then((r) => r.text());
  const labels = `sync="${sync}",provider="${provider}"`;
  const value = (name: string) => {
    const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}} `));
    return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
  };
  const state = text
    .split("\n")
    .find((l) => l.startsWith(`sequin_sync_state{${labels},state="`) && l.endsWith("} 1"));
  return {
    state: state ? /state="([a-z_]+)"/.exec(state)?.[1] : undefined,
    healthy: value("sequin_sync_healthy"),
    requests: value("sequin_sync_requests_total"),
    throttled: value("sequin_sync_throttled_total"),
  };
}

/**
 * Waits until the sync's series match `wanted` (the metrics come from the health round's snapshot, at most
 * a round old); says what they are if they never do.
 */
export async function waitSyncSeries(
  serviceUrl: string,
  sync: string,
  provider: string,
  wanted: (series: SyncSeries) => boolean,
  what: string,
): Promise<SyncSeries> {
  let last: SyncSeries | undefined;
  return waitFor(
    what,
    async () => {
      last = await syncSeries(serviceUrl, sync, provider);
      return wanted(last) ? last : undefined;
    },
    20_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: /metrics shows ${JSON.stringify(last)}`);
  });
}
