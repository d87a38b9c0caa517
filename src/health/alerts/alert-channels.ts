/**
 * Where alerts go: email over SMTP (nodemailer) and a webhook (JSON POST signed with HMAC-SHA256 of the
 * body in `x-sequin-signature`). Each channel sends one alert or throws; retrying is the sender's job.
 */
import { createHmac } from "node:crypto";
import nodemailer from "nodemailer";
import { plural } from "../../plural.js";
import { type AlertPayload, alertedEntity } from "./alert-payload.js";
import type { AlertChannel } from "./alert-queries.js";

export interface Channel {
  name: AlertChannel;
  send(payload: AlertPayload): Promise<void>;
  close?(): void;
}

export function signature(body: string, secret: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export function webhookChannel(url: string, secret: string | undefined, timeoutMs = 10_000): Channel {
  return {
    name: "webhook",
    async send(payload) {
      const body = JSON.stringify(payload);
      const response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "sequin-alerts",
          ...(secret ? { "x-sequin-signature": signature(body, secret) } : {}),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`webhook answered ${response.status} ${response.statusText}`);
    },
  };
}

function subject(payload: AlertPayload): string {
  const entity = alertedEntity(payload);
  const verb = payload.event.endsWith(".unhealthy") ? "is unhealthy" : "recovered";
  return `[sequin] ${entity.kind} "${entity.name}" ${verb}`;
}

/** The lines only one kind of entity has: a consumer's state and lag, a target's consumers, a sync's provider. */
function detailLines(payload: AlertPayload): string[] {
  if (payload.consumer) {
    const c = payload.consumer;
    return [`state: ${c.state}`, `lag: ${plural(c.lag.records, "record")}, oldest ${c.lag.seconds} s`];
  }
  if (payload.target) {
    const t = payload.target;
    return [`consumers: ${t.consumers.length}`, ...t.consumers.map((c) => `- ${c.name} (${c.state})`)];
  }
  if (payload.sync) return [`provider: ${payload.sync.provider}`, `state: ${payload.sync.state}`];
  return [];
}

function text(payload: AlertPayload): string {
  const entity = alertedEntity(payload);
  const health = payload.consumer?.health ?? payload.target?.health ?? payload.sync?.health;
  const lines = [
    subject(payload),
    "",
    `health: ${entity.status}`,
    ...detailLines(payload),
    "",
    ...entity.failing.flatMap((f) => [
      `failing: ${f.name}${f.error ? ` (${f.error})` : ""}`,
      `  what ends it: ${f.fix}`,
    ]),
    ...(entity.failing.length > 0 ? [""] : []),
    ...(health?.notes ?? []).map((n) => `- ${n}`),
    "",
    ...(health?.checks ?? []).map(
      (check) => `${check.name}: ${check.status}${check.error ? ` (${check.error})` : ""}`,
    ),
    "",
    `at ${payload.at}, ${entity.kind} ${entity.id}`,
  ];
  return lines.join("\n");
}

export function emailChannel(smtpUrl: string, from: string, to: string[]): Channel {
  const transport = nodemailer.createTransport(smtpUrl, { from });
  return {
    name: "email",
    async send(payload) {
      await transport.sendMail({ to: to.join(", "), subject: subject(payload), text: text(payload) });
    },
    close() {
      transport.close();
    },
  };
}
