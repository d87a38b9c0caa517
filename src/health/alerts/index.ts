export { type Channel, emailChannel, signature, webhookChannel } from "./alert-channels.js";
export type { AlertPayload } from "./alert-queries.js";
export { AlertSender, type AlertSenderOptions, defaultAlertSenderOptions } from "./alert-sender.js";
export { defaultHealthWatcherOptions, HealthWatcher, type HealthWatcherOptions } from "./health-watcher.js";
