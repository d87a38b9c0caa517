/**
 * The service in one process: the store, the background components that use it, and the HTTP server.
 * Start order is store → components → server; stop order is the reverse, so in-flight requests finish
 * while everything they need is still up.
 */
import type { FastifyInstance } from "fastify";
import pino, { type Logger } from "pino";
import { ApiTokens } from "./api/api-tokens.js";
import { buildServer } from "./api/server.js";
import type { ServerDeps } from "./api/server-deps.js";
import type { Config } from "./config.js";
import { defaultLagSamplerOptions, LagSampler, registerConsole } from "./console/index.js";
import { Consumers, ConsumerWorker, defaultWorkerOptions } from "./consumer/index.js";
import { openStore, type Store } from "./db/store.js";
import {
  AlertSender,
  alertEntities,
  type Channel,
  defaultHealthWatcherOptions,
  emailChannel,
  HealthWatcher,
  syncEntities,
  webhookChannel,
} from "./health/alerts/index.js";
import { ServiceMetrics } from "./health/metrics.js";
import { StatisticsSnapshot } from "./health/statistics-snapshot.js";
import { Sources, SourceWorker } from "./sources/index.js";
import { Targets } from "./targets/index.js";
import { Vault } from "./vault/index.js";
import { beatMsFor, WorkOwnership } from "./work/index.js";

/** Something that runs in the background of the service (consumer workers, alerting, …). */
export interface ServiceComponent {
  name: string;
  start(): Promise<void>;
  /** Finishes or rolls back work in flight, then returns. */
  stop(): Promise<void>;
}

export interface RunningService {
  /** Where the API listens, e.g. http://127.0.0.1:7376. */
  url: string;
  /** A token generated on first start, to be shown once; undefined when one exists or SEQUIN_API_TOKEN is set. */
  token?: string;
  store: Store;
  server: FastifyInstance;
  stop(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** How often the console's lag chart samples each consumer's lag (30 s by default; tests go faster). */
  lagSampleIntervalMs?: number;
}

/** What the routes need of the components, next to the store, config, log and tokens. */
type ComponentDeps = Omit<ServerDeps, "config" | "pool" | "log" | "tokens">;

interface Components {
  /** Started in order after the store, stopped in reverse order before it. */
  background: ServiceComponent[];
  deps: ComponentDeps;
}

/**
 * THE place for components started after the store and stopped before it. Add new workers here; the
 * server deps get whatever the routes need of them.
 */
async function backgroundComponents(
  store: Store,
  config: Config,
  log: Logger,
  options: StartOptions,
): Promise<Components> {
  const vault = await Vault.open({ key: config.vaultKey, dataDir: config.dataDir, store: store.pool });
  const targets = new Targets(store.pool, vault);
  const sources = new Sources({ pool: store.pool, vault });
  // an `api` process runs no consumers and no sources: the workers sharing its store do. A process's kinds
  // of work share one heartbeat (one write per beat keeps all its leases).
  const ownership =
    config.role === "api"
      ? undefined
      : new WorkOwnership(
          store.pool,
          config.role,
          { leaseSeconds: config.leaseSeconds, beatMs: beatMsFor(config.leaseSeconds) },
          log,
        );
  const worker =
    ownership &&
    new ConsumerWorker(
      {
        store: store.pool,
        storeUrl: store.url,
        log,
        connectTarget: (id) => targets.connect(id),
        probeTarget: (id) => targets.test(id),
        onBatch: (batch) => metrics.batchApplied(batch),
        onError: (consumer, error) => metrics.batchFailed(consumer, error),
        ownership,
      },
      { ...defaultWorkerOptions, leaseSeconds: config.leaseSeconds, role: config.role },
    );
  const sourceWorker = ownership && new SourceWorker({ store: store.pool, sources, ownership, log });
  const heartbeat: ServiceComponent | undefined = ownership && {
    name: "worker-heartbeat",
    start: () => ownership.start(),
    stop: () => ownership.stop(),
  };
  const consumers = new Consumers({
    pool: store.pool,
    targets,
    lagAlertSeconds: config.lagAlertSeconds,
    ...(worker ? { worker } : {}),
  });
  // one statistics read per round, whoever asks: the health watcher, /metrics, the lag sampler
  const statistics = new StatisticsSnapshot(
    () => consumers.statistics(),
    defaultHealthWatcherOptions.intervalMs / 2,
  );
  const syncStatistics = new StatisticsSnapshot(
    () => sources.statistics(),
    defaultHealthWatcherOptions.intervalMs / 2,
  );
  const listConsumers = async () => (await statistics.get()).map((s) => s.view);
  const metrics = new ServiceMetrics(listConsumers, () => syncStatistics.get());
  const channels = alertChannels(config);
  const healthWatcher = new HealthWatcher(
    store.pool,
    async () => [...alertEntities(await statistics.get()), ...syncEntities(await syncStatistics.get())],
    channels.map((c) => c.name),
    log,
    { ...defaultHealthWatcherOptions, settleMs: config.alertSettleSeconds * 1000 },
  );
  const alertSender = new AlertSender(store.pool, channels, log);
  const lagSampler = new LagSampler(store.pool, listConsumers, log, {
    ...defaultLagSamplerOptions,
    intervalMs: options.lagSampleIntervalMs ?? defaultLagSamplerOptions.intervalMs,
  });
  // the tunnels to targets close after the worker stopped using them
  const tunnels: ServiceComponent = {
    name: "target-tunnels",
    start: async () => {},
    stop: () => targets.close(),
  };
  return {
    background: [
      tunnels,
      ...(heartbeat && worker && sourceWorker ? [heartbeat, worker, sourceWorker] : []),
      alertSender,
      healthWatcher,
      lagSampler,
    ],
    deps: { targets, consumers, metrics, sources, ...(sourceWorker ? { sourceWorker } : {}) },
  };
}

/** Email when SEQUIN_SMTP_URL is set, a webhook when SEQUIN_ALERT_WEBHOOK_URL is. */
function alertChannels(config: Config): Channel[] {
  const channels: Channel[] = [];
  if (config.smtpUrl && config.alertEmailFrom) {
    channels.push(emailChannel(config.smtpUrl, config.alertEmailFrom, config.alertEmailTo));
  }
  if (config.alertWebhookUrl)
    channels.push(webhookChannel(config.alertWebhookUrl, config.alertWebhookSecret));
  return channels;
}

function listenUrl(server: FastifyInstance): string {
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("the server is not listening on TCP");
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

export async function startService(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const log = options.log ?? pino({ level: config.logLevel });
  const store = await openStore(config, log);
  const started: ServiceComponent[] = [];
  let server: FastifyInstance | undefined;

  const stopComponents = async () => {
    for (const component of started.reverse()) {
      try {
        await component.stop();
      } catch (error) {
        log.error({ component: component.name, err: error }, "component failed to stop");
      }
    }
    started.length = 0;
  };

  try {
    const tokens = new ApiTokens(store.pool, config.apiToken);
    const components = await backgroundComponents(store, config, log, options);
    for (const component of components.background) {
      await component.start();
      started.push(component);
    }
    const deps: ServerDeps = { config, pool: store.pool, log, tokens, ...components.deps };
    server = await buildServer(deps, { pages: registerConsole });
    await server.listen({ host: config.host, port: config.port });
    // only now that it can be used: a start that fails before (the port in use) must not use up the token
    // that is shown once
    const token = await tokens.ensureToken();
    const url = listenUrl(server);
    log.info({ url, embeddedStore: store.embedded }, "service started");

    const running = server;
    let stopping: Promise<void> | undefined;
    const stop = () => {
      stopping ??= (async () => {
        await running.close();
        await stopComponents();
        await store.close();
        log.info("service stopped");
      })();
      return stopping;
    };
    return { url, ...(token ? { token } : {}), store, server: running, stop };
  } catch (error) {
    await server?.close().catch(() => {});
    await stopComponents();
    await store.close().catch(() => {});
    throw error;
  }
}
