export { type Channel, emailChannel, signature, webhookChannel } from "./alert-channels.js";
export { type AlertEntity, alertEntities, syncEntities } from "./alert-entities.js";
export type { AlertEvent, AlertPayload, EntityKind } from "./alert-payload.js";
export { AlertSender, type AlertSenderOptions, defaultAlertSenderOptions } from "./alert-sender.js";
export { defaultHealthWatcherOptions, HealthWatcher, type HealthWatcherOptions } from "./health-watcher.js";
