/**
 * A server's syncs, targets and consumers as a config file. Secrets come out as `${VAR}` references
 * (`<TARGET_NAME>_PASSWORD`, `<TARGET_NAME>_SSH_PRIVATE_KEY`, and a sync source's credential fields as
 * `<SYNC_NAME>_API_KEY` …), listed in the header: the API never returns them. Entries are sorted by name and nothing depends on the server's ids or address, so exporting a
 * server set up from an exported file gives the same file.
 */
import { Document, isMap, isSeq, type Pair, type Scalar, type YAMLMap } from "yaml";
import type { ServerState } from "../api-client.js";
import { sourceFactories } from "../sources/index.js";
import { isActive } from "./plan.js";

/**
 * `my-db.eu` → `MY_DB_EU`; a leading digit gets a `TARGET_` prefix (or `fallback`'s) so the name stays a
 * variable name.
 */
export function variablePrefix(name: string, fallback = "TARGET"): string {
  const snake = name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .toUpperCase();
  if (snake === "") return fallback;
  return /^[0-9]/.test(snake) ? `${fallback}_${snake}` : snake;
}

/**
 * The credential fields a provider's source needs (its kind lists them): the server never says which were
 * given, so an exported source names the required ones of the usual credential (the kind's first choice);
 * optional ones (Stripe's `stripe_account`) and the other choices' fields are written by hand.
 */
function credentialFields(provider: string): string[] {
  const kind = sourceFactories.get(provider)?.kind;
  return kind ? kind.credentialChoices[0].fields.filter((f) => f.required).map((f) => f.field) : ["api_key"];
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function exportConfig(state: ServerState): string {
  const variables: string[] = [];
  const used = new Set<string>();
  const variable = (prefix: string, suffix: string) => {
    let name = `${prefix}_${suffix}`;
    for (let n = 2; used.has(name); n++) name = `${prefix}_${n}_${suffix}`;
    used.add(name);
    variables.push(name);
    return `\${${name}}`;
  };

  const syncs = [...state.syncs].sort(byName).map((s) => {
    const source = s.source;
    const prefix = variablePrefix(s.name, "SYNC");
    const credentials = Object.fromEntries(
      (source ? credentialFields(s.provider) : []).map((field) => {
        return [field, variable(prefix, variablePrefix(field, "SECRET"))];
      }),
    );
    return {
      name: s.name,
      provider: s.provider,
      collections: s.collections,
      ...(s.external_id !== null ? { external_id: s.external_id } : {}),
      ...(Object.keys(s.metadata).length > 0 ? { metadata: s.metadata } : {}),
      ...(source
        ? {
            source: {
              credentials,
              base_url: source.base_url,
              max_requests_per_second: source.max_requests_per_second,
              poll_interval_seconds: source.poll_interval_seconds,
              ...(Object.keys(source.settings ?? {}).length > 0 ? { settings: source.settings } : {}),
            },
          }
        : {}),
    };
  });

  const targets = [...state.targets].sort(byName).map((t) => {
    const prefix = variablePrefix(t.name);
    const tunnel = t.ssh_tunnel;
    return {
      name: t.name,
      postgres: {
        host: t.connection.host,
        port: t.connection.port,
        database: t.connection.database,
        username: t.connection.username,
        password: variable(prefix, "PASSWORD"),
        ssl: t.connection.ssl,
      },
      ...(tunnel
        ? {
            ssh_tunnel: {
              host: tunnel.host,
              port: tunnel.port,
              username: tunnel.username,
              ...(tunnel.key_id !== null
                ? { key_id: tunnel.key_id }
                : { private_key: variable(prefix, "SSH_PRIVATE_KEY") }),
              host_key_fingerprint: tunnel.host_key_fingerprint,
            },
          }
        : {}),
    };
  });

  const consumers = [...state.consumers].sort(byName).map((c) => {
    const target = state.targets.find((t) => t.id === c.target_id)?.name ?? c.target_id;
    const filter = c.filter;
    const fileFilter =
      "provider" in filter
        ? { provider: filter.provider }
        : { sync: state.syncs.find((s) => s.id === filter.sync_id)?.name ?? filter.sync_id };
    return {
      name: c.name,
      target,
      filter: fileFilter,
      table: { schema: c.table.schema, name: c.table.name },
      active: isActive(c.state),
      ...(c.lag_alert_seconds !== null ? { lag_alert_seconds: c.lag_alert_seconds } : {}),
    };
  });

  const doc = new Document({ syncs, targets, consumers });
  for (const list of ["syncs", "consumers"]) {
    const seq = doc.get(list);
    if (!isSeq(seq)) continue;
    for (const entry of seq.items as YAMLMap[]) {
      for (const key of ["collections", "filter", "table"]) {
        const node = entry.get(key, true);
        if (isSeq(node) || isMap(node)) node.flow = true;
      }
      const credentials = entry.getIn(["source", "credentials"], true);
      if (isMap(credentials)) {
        const names = (credentials.items as Pair<Scalar, Scalar<string>>[]).map((pair) =>
          pair.value!.value.slice(2, -1),
        );
        credentials.commentBefore = ` never returned by the server: set ${names.join(", ")} before plan or apply`;
      }
    }
  }
  const header = [
    " Sequin configuration: syncs, targets and consumers. Names are the keys `sequin config plan|apply` match on.",
    variables.length > 0
      ? ` Secrets are read from the environment: set ${variables.join(", ")} before plan or apply.`
      : ` Secrets are read from the environment as \${VAR} references.`,
  ];
  doc.commentBefore = header.join("\n");
  return doc.toString({ lineWidth: 0, flowCollectionPadding: true });
}
