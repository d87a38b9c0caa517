/**
 * HubSpot's limits per install: a rolling ten-second window (`TEN_SECONDLY_ROLLING`, 100 requests on the
 * lowest tiers), a daily quota (`DAILY`, 250,000; its day on the emulator's clock, in UTC), and the search
 * endpoints' own limit per second (5). The windows run on real time like the request log, so a clock jump
 * of days cannot open or close one; a refused request uses none of the budget. Search requests count
 * against the search limit and the day, not the ten-second window, and their answers carry no
 * `X-HubSpot-RateLimit-*` headers (HubSpot documents both).
 */
import type { EmulatorClock } from "../stripe/index.js";

export interface LimitSettings {
  tenSecondly: number | null;
  daily: number | null;
  searchPerSecond: number | null;
}

export type Refusal = "TEN_SECONDLY_ROLLING" | "DAILY" | "SECONDLY";

interface Usage {
  tenSecond: number[];
  search: number[];
  day: number;
  usedToday: number;
}

export class Limits {
  settings: LimitSettings = { tenSecondly: 100, daily: 250_000, searchPerSecond: 5 };
  /** Limits of one install, over the portal's. */
  readonly perInstall = new Map<string, Partial<LimitSettings>>();
  private readonly usage = new Map<string, Usage>();

  private settingsOf(install: string): LimitSettings {
    return { ...this.settings, ...this.perInstall.get(install) };
  }

  constructor(private readonly clock: EmulatorClock) {}

  /** Admits the request at `atMs` (real time) or names the limit that refuses it. */
  admit(install: string, search: boolean, atMs: number): Refusal | undefined {
    const usage = this.usageOf(install);
    usage.tenSecond = usage.tenSecond.filter((t) => t > atMs - 10_000);
    usage.search = usage.search.filter((t) => t > atMs - 1000);
    const { tenSecondly, daily, searchPerSecond } = this.settingsOf(install);
    if (daily !== null && usage.usedToday >= daily) return "DAILY";
    if (search) {
      if (searchPerSecond !== null && usage.search.length >= searchPerSecond) return "SECONDLY";
      usage.search.push(atMs);
    } else {
      if (tenSecondly !== null && usage.tenSecond.length >= tenSecondly) return "TEN_SECONDLY_ROLLING";
      usage.tenSecond.push(atMs);
    }
    usage.usedToday += 1;
    return undefined;
  }

  /** The `X-HubSpot-RateLimit-*` headers of an answer (the daily ones for private apps only). */
  headers(install: string, privateApp: boolean): Record<string, string> {
    const usage = this.usageOf(install);
    const { tenSecondly, daily } = this.settingsOf(install);
    const headers: Record<string, string> = {};
    if (tenSecondly !== null) {
      headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000";
      headers["X-HubSpot-RateLimit-Max"] = String(tenSecondly);
      headers["X-HubSpot-RateLimit-Remaining"] = String(Math.max(0, tenSecondly - usage.tenSecond.length));
    }
    if (daily !== null && privateApp) {
      headers["X-HubSpot-RateLimit-Daily"] = String(daily);
      headers["X-HubSpot-RateLimit-Daily-Remaining"] = String(Math.max(0, daily - usage.usedToday));
    }
    return headers;
  }

  /** A new day for every install (as midnight does). */
  resetDaily(): void {
    for (const usage of this.usage.values()) usage.usedToday = 0;
  }

  private usageOf(install: string): Usage {
    const day = Math.floor(this.clock.nowMs() / 86_400_000);
    let usage = this.usage.get(install);
    if (!usage) {
      usage = { tenSecond: [], search: [], day, usedToday: 0 };
      this.usage.set(install, usage);
    }
    if (usage.day !== day) {
      usage.day = day;
      usage.usedToday = 0;
    }
    return usage;
  }
}
