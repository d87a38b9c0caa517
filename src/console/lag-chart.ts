/**
 * The lag of the last hour as an inline SVG line chart with the alert threshold, drawn on the server (no
 * charting library).
 */

import { plural } from "../plural.js";
import { type Html, html } from "./html.js";
import type { LagSample } from "./lag-sample-queries.js";
import { seconds } from "./view-helpers.js";

const width = 1000;
const height = 200;
const pad = { left: 56, right: 12, top: 12, bottom: 24 };
export const chartWindowMs = 3600 * 1000;

/** A round upper bound for the axis: 1, 2, 5 × a power of ten. */
function niceMax(value: number): number {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** Exact enough for an axis of round numbers of seconds (500 s, not "8 min"). */
function axisLabel(s: number): string {
  if (s < 1000) return `${Number(s.toFixed(1))} s`;
  if (s < 7200) return `${Number((s / 60).toFixed(1))} min`;
  return `${Number((s / 3600).toFixed(1))} h`;
}

/**
 * `samples` since the consumer started, within the last hour; `thresholdSeconds`, the lag past which the
 * consumer is unhealthy, is drawn as a dashed line (the axis reaches up to it, so it is always in view).
 */
export function lagChart(samples: LagSample[], now = new Date(), thresholdSeconds?: number): Html {
  if (samples.length === 0) {
    return html`<div class="chart empty" data-samples="0">No samples yet: the lag is recorded every few seconds once the consumer is started.</div>`;
  }
  const start = now.getTime() - chartWindowMs;
  const max = niceMax(Math.max(...samples.map((s) => s.seconds), thresholdSeconds ?? 0));
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const x = (at: Date) => pad.left + (Math.max(0, at.getTime() - start) / chartWindowMs) * plotW;
  const y = (s: number) => pad.top + plotH - (Math.min(s, max) / max) * plotH;
  const points = samples.map((s) => `${x(s.at).toFixed(1)},${y(s.seconds).toFixed(1)}`);
  const first = samples[0]!;
  const last = samples[samples.length - 1]!;
  const baseline = (pad.top + plotH).toFixed(1);
  const area = `${x(first.at).toFixed(1)},${baseline} ${points.join(" ")} ${x(last.at).toFixed(1)},${baseline}`;
  const grid = [0, 0.5, 1].map((f) => {
    const value = max * f;
    return html`<line class="grid-line" x1="${pad.left}" x2="${width - pad.right}" y1="${y(value)}" y2="${y(value)}"/>
<text x="${pad.left - 8}" y="${y(value) + 4}" text-anchor="end">${axisLabel(value)}</text>`;
  });
  const ticks = [
    { f: 0, label: "60 min ago", anchor: "start" },
    { f: 0.5, label: "30 min ago", anchor: "middle" },
    { f: 1, label: "now", anchor: "end" },
  ].map(
    (t) =>
      html`<text x="${pad.left + t.f * plotW}" y="${height - 6}" text-anchor="${t.anchor}">${t.label}</text>`,
  );
  const threshold =
    thresholdSeconds === undefined
      ? ""
      : html`<line class="threshold" data-threshold="${thresholdSeconds}" x1="${pad.left}" x2="${width - pad.right}" y1="${y(thresholdSeconds).toFixed(1)}" y2="${y(thresholdSeconds).toFixed(1)}"/>
<text class="threshold-label" x="${width - pad.right - 4}" y="${(y(thresholdSeconds) - 5).toFixed(1)}" text-anchor="end">alert after ${seconds(thresholdSeconds)}</text>`;
  const alertAfter = thresholdSeconds === undefined ? "" : `; alert after ${seconds(thresholdSeconds)}`;
  const label = `Lag over the last hour: highest ${seconds(Math.max(...samples.map((s) => s.seconds)))}, now ${seconds(last.seconds)} (${plural(last.records, "change")} pending)${alertAfter}`;
  return html`<div class="chart" data-samples="${samples.length}">
<svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${label}" xmlns="http://www.w3.org/2000/svg">
<title>${label}</title>
${grid}
<polygon class="area" points="${area}"/>
<polyline class="line" points="${points.join(" ")}"/>
${threshold}
<circle class="latest" cx="${x(last.at).toFixed(1)}" cy="${y(last.seconds).toFixed(1)}" r="4"/>
${ticks}
</svg>
</div>`;
}
