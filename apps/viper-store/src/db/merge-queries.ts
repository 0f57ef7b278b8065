import { sql } from "drizzle-orm";
import { type Db, queryRows, toNumber } from "./client.js";

/**
 * The bulk statements of one delivery's merge. Each takes the whole batch as a single jsonb
 * parameter (`jsonb_to_recordset`), so there is no 65,535 bind-parameter limit to chunk around,
 * and writes only rows that change (`IS DISTINCT FROM`), so an unchanged re-push rewrites nothing.
 */

/** One row of the batch, as the statements read it from jsonb. */
export interface MergeRow {
  id: string;
  node_key: string;
  url: string;
  name: string;
  protocol: string;
  host: string;
  port: number;
  country: string | null;
  legacy_score: number | null;
  latency: number | null;
  speed: number | null;
  availability: number | null;
  /** ISO 8601 */
  observed_at: string;
}

export interface BatchContext {
  deliveryId: string;
  source: string;
  /** '' when the payload had no region. */
  region: string;
  method: string | null;
  /** Payload timestamp, ISO 8601. */
  timestamp: string;
  /** Receipt time, ISO 8601. */
  now: string;
}

type Tx = Pick<Db, "execute">;

const RECORDSET = sql.raw(
  "x(id text, node_key text, url text, name text, protocol text, host text, port int, country text, " +
    "legacy_score float8, latency float8, speed float8, availability float8, observed_at timestamptz)",
);

/** All merges run one after another (across replicas too): no deadlocks, no racing snapshots. */
export async function lockMerges(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('viper-store:merge'))`);
}

export async function deliveryExists(tx: Tx, id: string): Promise<boolean> {
  const rows = await queryRows(tx, sql`select 1 as x from deliveries where id = ${id}`);
  return rows.length > 0;
}

export async function knownNodeIds(tx: Tx, ids: string[]): Promise<Set<string>> {
  const rows = await queryRows<{ id: string }>(
    tx,
    sql`select n.id from nodes n join jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb) as i(id) on i.id = n.id`,
  );
  return new Set(rows.map((r) => r.id));
}

export interface UpsertCounts {
  inserted: number;
  updated: number;
  revived: number;
  /** Current-value rows written for nodes that existed before: the view needs a refresh only when > 0. */
  currentChanged: number;
}

/**
 * Owner delivery: upserts nodes (new rows get their view metrics straight from this batch),
 * moves `last_seen_at` forward only, revives stale nodes listed by a newer delivery, and
 * records current values + history per (node, source, region), all in one statement.
 * An older delivery (timestamp < last_seen_at) changes no node row.
 */
export async function upsertOwnedBatch(tx: Tx, rows: MergeRow[], ctx: BatchContext): Promise<UpsertCounts> {
  const result = await queryRows<Record<string, unknown>>(tx, ownedBatchStatement(rows, ctx));
  const row = result[0] ?? {};
  return {
    inserted: toNumber(row.inserted) ?? 0,
    updated: toNumber(row.updated) ?? 0,
    revived: toNumber(row.revived) ?? 0,
    currentChanged: toNumber(row.current_changed) ?? 0,
  };
}

/** The statement of {@link upsertOwnedBatch}. */
function ownedBatchStatement(rows: MergeRow[], ctx: BatchContext) {
  const ts = sql`${ctx.timestamp}::timestamptz`;
  const now = sql`${ctx.now}::timestamptz`;
  const hasMetric = sql.raw("coalesce(latency, speed, availability) is not null");
  return sql`
    with input as (select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as ${RECORDSET}),
    changed as (
      select i.* from input i left join nodes n on n.id = i.id
      where n.id is null
         or (${ts} >= n.last_seen_at and (
              (n.node_key, n.url, n.name, n.protocol, n.host, n.port, n.country, n.legacy_score, n.owner_source, n.last_seen_at)
                is distinct from
              (i.node_key, i.url, i.name, i.protocol, i.host, i.port, i.country, i.legacy_score, ${ctx.source}::text, ${ts})
              or (n.status = 'stale' and ${ts} > n.stale_since)))
    ),
    up as (
      insert into nodes (id, node_key, url, name, protocol, host, port, country, legacy_score, status,
                         first_seen_at, last_seen_at, owner_source,
                         latency, speed, availability, observed_at, metrics_source, updated_at)
      select id, node_key, url, name, protocol, host, port, country, legacy_score, 'active',
             ${ts}, ${ts}, ${ctx.source},
             latency, speed, availability,
             case when ${hasMetric} then observed_at end,
             case when ${hasMetric} then ${ctx.source}::text end,
             ${now}
      from changed order by id
      on conflict (id) do update set
        node_key = excluded.node_key, url = excluded.url, name = excluded.name, protocol = excluded.protocol,
        host = excluded.host, port = excluded.port, country = excluded.country,
        legacy_score = excluded.legacy_score, owner_source = excluded.owner_source,
        last_seen_at = greatest(nodes.last_seen_at, excluded.last_seen_at),
        status = case when nodes.status = 'stale' and excluded.last_seen_at > nodes.stale_since
                      then 'active' else nodes.status end,
        stale_since = case when nodes.status = 'stale' and excluded.last_seen_at > nodes.stale_since
                           then null else nodes.stale_since end,
        updated_at = excluded.updated_at
      where excluded.last_seen_at >= nodes.last_seen_at
      returning id, (xmax = 0) as inserted
    ),
    ${currentAndHistory(ctx, sql`select * from input where ${hasMetric}`)}
    -- Reading the nodes table here sees the state before this statement: a node found
    -- there existed before, so it was updated, not inserted. (CTE-to-CTE joins are avoided:
    -- the planner has no statistics for them and may pick a quadratic nested loop.)
    select
      (select count(*) from up where inserted) as inserted,
      (select count(*) from (
         select id from up where not inserted
         union select c.node_id from cur c join nodes n on n.id = c.node_id
       ) u) as updated,
      (select count(*) from up join nodes n on n.id = up.id
        where n.status = 'stale' and ${ts} > n.stale_since) as revived,
      -- New nodes got their view straight from this batch; only older ones need a refresh.
      (select count(*) from cur c join nodes n on n.id = c.node_id) as current_changed
  `;
}

/** Measurement delivery (rows already limited to known nodes): current values + history only. */
export async function upsertMeasurementBatch(tx: Tx, rows: MergeRow[], ctx: BatchContext): Promise<number> {
  const result = await queryRows<Record<string, unknown>>(
    tx,
    sql`
    with input as (select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as ${RECORDSET}),
    ${currentAndHistory(ctx, sql`select * from input where coalesce(latency, speed, availability) is not null`)}
    select (select count(*) from cur) as updated
  `,
  );
  return toNumber(result[0]?.updated) ?? 0;
}

/**
 * CTEs `obs`, `hist`, `cur`: an observation newer than the (source, region)'s current one
 * replaces it; any observation whose metrics differ from the current ones goes to history (so an
 * older one lands in history only). All-null observations carry no measurement: skipped.
 * node_current is read as it was before the statement. The lookups are LATERAL so that they are
 * always primary-key probes: PGlite has no autovacuum, so after a big first push the planner
 * believes node_current is empty and would otherwise pick a seq scan inside a nested loop
 * (quadratic: 10 s for 10,000 rows).
 */
function currentAndHistory(ctx: BatchContext, observations: ReturnType<typeof sql>) {
  return sql`
    obs as (
      select o.id, o.latency, o.speed, o.availability, o.observed_at,
        c.node_id is null
          or (c.latency, c.speed, c.availability) is distinct from (o.latency, o.speed, o.availability) as to_history,
        c.node_id is null or o.observed_at > c.observed_at as to_current
      from (${observations}) o left join lateral (
        select * from node_current
        where node_id = o.id and source = ${ctx.source} and region = ${ctx.region}
        limit 1 -- keeps the subquery from being flattened into a plain join
      ) c on true
    ),
    hist as (
      insert into node_measurements (node_id, source, region, method, latency, speed, availability, observed_at, delivery_id)
      select id, ${ctx.source}, ${ctx.region}, ${ctx.method}, latency, speed, availability, observed_at, ${ctx.deliveryId}
      from obs where to_history
      returning 1
    ),
    cur as (
      insert into node_current (node_id, source, region, method, latency, speed, availability, observed_at, delivery_id)
      select id, ${ctx.source}, ${ctx.region}, ${ctx.method}, latency, speed, availability, observed_at, ${ctx.deliveryId}
      from obs where to_current
      order by id
      on conflict (node_id, source, region) do update set
        method = excluded.method, latency = excluded.latency, speed = excluded.speed,
        availability = excluded.availability, observed_at = excluded.observed_at,
        delivery_id = excluded.delivery_id
      where excluded.observed_at > node_current.observed_at
      returning node_id
    )`;
}

/**
 * Re-derives the node view (newest non-null value per metric over every (source, region), the
 * source of the newest observation) for nodes whose current values this delivery changed.
 * Rows whose view is already right are not rewritten.
 */
export async function refreshNodeView(tx: Tx, ctx: BatchContext): Promise<void> {
  await tx.execute(sql`
    update nodes n set
      latency = v.latency, speed = v.speed, availability = v.availability,
      observed_at = v.observed_at, metrics_source = v.source, updated_at = ${ctx.now}::timestamptz
    from (
      select c.node_id,
        (array_agg(c.latency order by c.observed_at desc, c.source, c.region) filter (where c.latency is not null))[1] as latency,
        (array_agg(c.speed order by c.observed_at desc, c.source, c.region) filter (where c.speed is not null))[1] as speed,
        (array_agg(c.availability order by c.observed_at desc, c.source, c.region) filter (where c.availability is not null))[1] as availability,
        max(c.observed_at) as observed_at,
        (array_agg(c.source order by c.observed_at desc, c.source, c.region))[1] as source
      from node_current c
      where c.node_id in (select node_id from node_current where delivery_id = ${ctx.deliveryId})
      group by c.node_id
    ) v
    where n.id = v.node_id
      and (n.latency, n.speed, n.availability, n.observed_at, n.metrics_source)
          is distinct from (v.latency, v.speed, v.availability, v.observed_at, v.source)
  `);
}

/**
 * Snapshot rule: the source's active nodes that this snapshot did not list and that were last
 * seen before its timestamp become stale. Listed nodes already have last_seen_at >= timestamp.
 */
export async function staleUnlisted(tx: Tx, ctx: BatchContext): Promise<number> {
  const rows = await queryRows(
    tx,
    sql`
    update nodes set status = 'stale', stale_since = ${ctx.timestamp}::timestamptz, updated_at = ${ctx.now}::timestamptz
    where owner_source = ${ctx.source} and status = 'active' and last_seen_at < ${ctx.timestamp}::timestamptz
    returning id`,
  );
  return rows.length;
}

/** The first text field of a node that PostgreSQL cannot store (text never holds NUL), if any. */
export function unstorableField(node: object): string | undefined {
  for (const [field, value] of Object.entries(node)) {
    if (typeof value === "string" && value.includes("\u0000")) return field;
  }
  return undefined;
}

/**
 * Text as PostgreSQL text/jsonb accepts it: NUL and lone UTF-16 surrogates (which JSON.stringify
 * writes as `\\udXXX` escapes that jsonb refuses) become U+FFFD. Rejection reasons can quote input.
 */
export function storableText(text: string): string {
  return text.replace(
    /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
    "\uFFFD",
  );
}

/** What one delivery did to the nodes, as replied to the sender and kept on the delivery row. */
export interface DeliveryCounts {
  received: number;
  inserted: number;
  updated: number;
  unchanged: number;
  stale: number;
  revived: number;
}

export interface DeliveryRecord extends DeliveryCounts {
  id: string;
  mechanism: string;
  source: string;
  eventType: string;
  mode: string;
  region: string | null;
  payloadTimestamp: string;
  receivedAt: string;
  bytes: number | null;
  contentHash: string | null;
  rejections: { index: number; reason: string }[];
  result: string;
  error: string | null;
}

export async function insertDelivery(tx: Tx, d: DeliveryRecord): Promise<void> {
  await tx.execute(sql`
    insert into deliveries (id, mechanism, source, event_type, mode, region, payload_timestamp, received_at, bytes,
      content_hash, received, inserted, updated, unchanged, stale, revived, rejected_count, rejections, result, error)
    values (${d.id}, ${d.mechanism}, ${d.source}, ${d.eventType}, ${d.mode}, ${d.region},
      ${d.payloadTimestamp}::timestamptz, ${d.receivedAt}::timestamptz, ${d.bytes}, ${d.contentHash},
      ${d.received}, ${d.inserted}, ${d.updated}, ${d.unchanged}, ${d.stale}, ${d.revived},
      ${d.rejections.length}, ${JSON.stringify(d.rejections.slice(0, 100).map((r) => ({ index: r.index, reason: storableText(r.reason) })))}::jsonb, ${d.result}, ${d.error})`);
}

/** Bumps the per-mechanism counters in sync_state (`webhook`, `poll`). */
export async function countDelivery(
  tx: Tx,
  key: string,
  field: "received_count" | "rejected_count",
  at: string,
  details: Record<string, string | null>,
  by = 1,
): Promise<void> {
  const patch = JSON.stringify(details);
  await tx.execute(sql`
    insert into sync_state (key, value, updated_at)
    values (${key}, jsonb_build_object(${field}::text, ${by}::bigint) || ${patch}::jsonb, ${at}::timestamptz)
    on conflict (key) do update set
      value = sync_state.value || ${patch}::jsonb
              || jsonb_build_object(${field}::text, coalesce((sync_state.value ->> ${field})::bigint, 0) + ${by}::bigint),
      updated_at = excluded.updated_at`);
}
