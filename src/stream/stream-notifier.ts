/**
 * Wakes readers after new changes commit. NOTIFY inside the writing transaction would take a global lock
 * at commit that serializes every writer, so we notify after commit, from outside the ingest transaction,
 * coalesced: at most one NOTIFY in flight per pool, carrying every provider that changed meanwhile.
 * A lost notification only delays readers until their polling backstop.
 */
import type pg from "pg";

export const streamChannel = "sequin_stream";
const maxPayloadLength = 7000;

interface NotifierState {
  pending: Set<string>;
  inFlight: boolean;
}

const states = new WeakMap<pg.Pool, NotifierState>();

export function notifyStreamChanged(pool: pg.Pool, provider: string): void {
  let state = states.get(pool);
  if (!state) {
    state = { pending: new Set(), inFlight: false };
    states.set(pool, state);
  }
  state.pending.add(provider);
  if (!state.inFlight) void flush(pool, state);
}

async function flush(pool: pg.Pool, state: NotifierState): Promise<void> {
  state.inFlight = true;
  try {
    while (state.pending.size > 0) {
      let payload = [...state.pending].join(",");
      state.pending.clear();
      // "*" wakes every reader; used when too many providers changed at once to name them.
      if (payload.length > maxPayloadLength) payload = "*";
      await pool.query("select pg_notify($1, $2)", [streamChannel, payload]).catch(() => {});
    }
  } finally {
    state.inFlight = false;
  }
}
