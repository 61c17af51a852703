/**
 * The configuration schema: every key, its type and its default, side by side.
 * Unknown keys are rejected (strict objects); the result is validated once at start-up and frozen.
 */
import { z } from 'zod';

/** Asset and market names: the original limits them to 15 bytes; we also keep them printable. */
const NAME = z.string().regex(/^[A-Za-z0-9_-]{1,15}$/, 'names are 1–15 characters of A–Z, a–z, 0–9, _ or -');

/** Decimal places a balance or a quantity may carry. Kept ≤ 18 so that 10^prec fits comfortably in int64 arithmetic. */
const PRECISION = z.number().int().min(0).max(18);

export const assetSchema = z.strictObject({
  name: NAME,
  /** Decimals kept in balances (balances are int64 counts of 10^-prec_save). */
  prec_save: PRECISION,
  /** Decimals shown by balance.query / asset.list and accepted by balance.update; defaults to prec_save. */
  prec_show: PRECISION.optional(),
});

export const marketSchema = z.strictObject({
  name: NAME,
  /** The traded asset; `prec` = decimals of amounts. */
  stock: z.strictObject({ name: NAME, prec: PRECISION }),
  /** The pricing asset; `prec` = decimals of prices. */
  money: z.strictObject({ name: NAME, prec: PRECISION }),
  /** Decimals of fee rates. */
  fee_prec: PRECISION.default(4),
  /** Smallest order amount, in stock (a decimal string, as in the original). */
  min_amount: z.string().default('0.01'),
});

export const engineSchema = z.strictObject({
  /**
   * The user id that collects trading fees (and rounding dust), so that every asset is conserved.
   * The original let fees vanish; user 0 is not a valid trading user, which keeps this account apart.
   */
  fee_account: z.number().int().min(0).max(0xffffffff).default(0),
  /** Rows reserved in the shared balance table. Memory is committed by the OS only as rows are used. */
  max_users: z.number().int().min(16).max(1 << 26).default(1 << 20),
  /** Resting orders one market's book can hold; a full book rejects new resting orders cleanly. */
  max_orders_per_market: z.number().int().min(16).max(1 << 26).default(1 << 20),
  /** Price levels one side of a book can hold. */
  max_levels_per_side: z.number().int().min(16).max(1 << 24).default(1 << 16),
  /**
   * Worker threads that match orders (shards). Each market lives in exactly one shard; more
   * shards spread markets over cores, at the cost of a ring hop per command.
   */
  shards: z.number().int().min(1).max(64).default(1),
  /**
   * Market → shard overrides. Markets not listed go to hash(name) mod shards, which keeps a
   * market's shard stable across restarts and when other markets are added or removed.
   */
  assignment: z.record(z.string(), z.number().int().min(0).max(63)).default({}),
  /**
   * Bytes of each command and reply ring (a power of two). Larger rings absorb longer bursts
   * before the gateway answers "busy"; memory is per shard and per direction.
   */
  ring_bytes: z.number().int().min(1 << 12).max(1 << 30).refine((n) => (n & (n - 1)) === 0, 'must be a power of two').default(1 << 22),
  /** Best price levels per side each shard publishes to shared memory for depth queries. */
  depth_levels: z.number().int().min(16).max(4096).default(256),
});

/** A TCP port; 0 asks the OS for a free one (tests). */
const PORT = z.number().int().min(0).max(65535);

/**
 * Who may call the admin method `balance.update` (deposits and withdrawals). Defaults keep it off
 * the open network: on the public listener only clients on the loopback interface may call it.
 */
export const httpAdminSchema = z.strictObject({
  /**
   * balance.update on the public listener: "loopback" = only from 127.0.0.1 / ::1 with no proxy
   * headers (X-Forwarded-For, Forwarded, X-Real-IP); "token" = from any client that sends the token;
   * "none" = never (use the admin listener).
   */
  public_access: z.enum(['loopback', 'token', 'none']).default('loopback'),
  /** When set, balance.update also requires `Authorization: Bearer <token>`, on every listener. */
  token: z.string().min(16, 'the admin token must be at least 16 characters').optional(),
  /** Port of a separate admin listener serving every method including balance.update; none when omitted. */
  port: PORT.optional(),
  /** Address of the admin listener. */
  host: z.string().min(1).default('127.0.0.1'),
});

export const httpSchema = z.strictObject({
  /** Address of the public HTTP JSON-RPC listener. */
  host: z.string().min(1).default('0.0.0.0'),
  /** Port of the public listener (the original's accesshttp used 8080). */
  port: PORT.default(8080),
  /** Largest request body; bigger requests get 413 and the connection is closed (the original's max_pkg_size). */
  max_body_bytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(102400),
  admin: httpAdminSchema.default(httpAdminSchema.parse({})),
}).superRefine((http, ctx) => {
  if (http.admin.public_access === 'token' && http.admin.token === undefined) {
    ctx.addIssue({ code: 'custom', path: ['admin', 'token'], message: 'public_access "token" needs admin.token' });
  }
  if (http.admin.port !== undefined && http.admin.port !== 0 && http.admin.port === http.port) {
    ctx.addIssue({ code: 'custom', path: ['admin', 'port'], message: 'the admin listener needs a port of its own' });
  }
});

/** A trading user id as the protocol carries it (1 … 2^32 − 1). */
const USER_ID = z.number().int().min(1).max(0xffffffff);

/** An API key of the built-in verifier of the WebSocket's server.sign. */
export const wsAuthKeySchema = z.strictObject({
  access_id: z.string().min(1).max(64),
  /** The HMAC-SHA256 key; never leaves the server. */
  secret_key: z.string().min(16, 'a secret_key must be at least 16 characters'),
  user_id: USER_ID,
});

/**
 * How the WebSocket's server.auth and server.sign decide who a connection is. Nothing is open by
 * default: with no tokens, keys or URLs configured every attempt fails with error 11.
 */
export const wsAuthSchema = z.strictObject({
  /** server.auth tokens of the built-in verifier: token → user id. */
  tokens: z.record(z.string().min(16, 'a token must be at least 16 characters'), USER_ID).default({}),
  /** server.sign keys of the built-in verifier (authorisation = hex HMAC-SHA256(secret_key, "access_id=<id>&tonce=<tonce>")). */
  keys: z.array(wsAuthKeySchema).default([]),
  /** How far (ms) a server.sign tonce may be from the server's clock. */
  tonce_window_ms: z.number().int().min(1000).max(3_600_000).default(30_000),
  /** The original's callout for server.auth tokens not in `tokens`: GET with `Authorization: <token>`. */
  auth_url: z.url({ protocol: /^https?$/ }).optional(),
  /** The original's callout for server.sign keys not in `keys`: GET ?access_id=…&tonce=… with `Authorization: <authorisation>`. */
  sign_url: z.url({ protocol: /^https?$/ }).optional(),
  /** Time allowed for a callout (the original's backend_timeout, 1 s); then error 5. */
  timeout_ms: z.number().int().min(10).max(60_000).default(1000),
}).superRefine((auth, ctx) => {
  const seen = new Set<string>();
  auth.keys.forEach((key, i) => {
    if (seen.has(key.access_id)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'access_id'], message: `duplicate access_id ${key.access_id}` });
    seen.add(key.access_id);
  });
});

/** The depth merge intervals the original's accessws accepts by default. */
const DEPTH_MERGE_DEFAULT = ['0', '0.00000001', '0.0000001', '0.000001', '0.00001', '0.0001', '0.001', '0.01', '0.1'];

export const wsSchema = z.strictObject({
  /** Address of the WebSocket listener. */
  host: z.string().min(1).default('0.0.0.0'),
  /** Port of the WebSocket listener (the original's accessws used 8090). */
  port: PORT.default(8090),
  /** Subprotocol named in the handshake reply when the client offers it (the original's "chat"). */
  protocol: z.string().min(1).max(64).default('chat'),
  /** When set, the Origin header must end with this text (the original's `origin`); empty = any origin. */
  origin: z.string().default(''),
  /** Largest incoming message; a bigger one closes the connection (the original's max_pkg_size). */
  max_message_bytes: z.number().int().min(1024).max(16 * 1024 * 1024).default(102400),
  /**
   * Bytes a connection may have waiting to be sent; a client that reads slower than its pushes
   * arrive is disconnected past this, so memory per connection stays bounded.
   */
  max_backpressure_bytes: z.number().int().min(16 * 1024).max(1 << 30).default(1 << 20),
  /** A connection that sends nothing for this long is closed (the original's keep_alive, 3600 s); 0 = never. */
  idle_timeout_ms: z.number().int().min(0).max(7 * 24 * 3_600_000).default(3_600_000),
  /** Requests one connection may send per second; more are answered with error 3 "too many requests". */
  max_requests_per_second: z.number().int().min(1).max(1_000_000).default(100),
  /** Most names one order.subscribe or asset.subscribe may list. */
  max_subscriptions: z.number().int().min(1).max(65_536).default(256),
  /** depth.subscribe limits accepted (the original's depth_limit). */
  depth_limits: z.array(z.number().int().min(1).max(101)).min(1).default([1, 5, 10, 20, 30, 50, 100]),
  /** depth.subscribe intervals accepted, compared as decimals (the original's depth_merge). */
  depth_merge: z.array(z.string().regex(/^\d{1,15}(\.\d{1,15})?$/, 'a merge interval is a plain decimal such as "0.01"').max(15)).min(1).default(DEPTH_MERGE_DEFAULT),
  /** Least time between two depth.update pushes of one (market, limit, interval); changes in between are merged. */
  depth_interval_ms: z.number().int().min(0).max(60_000).default(100),
  auth: wsAuthSchema.default(wsAuthSchema.parse({})),
});

export const journalSchema = z.strictObject({
  /**
   * Directory of the journal (segments per shard, the commit log, snapshots). Null: no journal,
   * state lives in memory only (tests). `npm start` sets it from --data-dir (default ./data).
   */
  dir: z.string().min(1).nullable().default(null),
  /**
   * 'fsync' (default): an operation is acknowledged only once its epoch is on disk (fdatasync).
   * 'none': written to the OS without fsync — faster, but a machine crash (not a process crash)
   * can lose the last moments of acknowledged operations.
   */
  durability: z.enum(['fsync', 'none']).default('fsync'),
  /** A shard starts a new segment file past this size. */
  segment_bytes: z.number().int().min(1 << 16).max(1 << 30).default(64 << 20),
  /**
   * Seconds between snapshots (0 = only on demand). A snapshot bounds recovery time and lets older
   * journal segments be deleted; shards pause for the time it takes to copy their books.
   */
  snapshot_interval_s: z.number().int().min(0).max(7 * 86400).default(600),
});

export const configSchema = z.strictObject({
  assets: z.array(assetSchema).min(1),
  markets: z.array(marketSchema),
  engine: engineSchema.default(engineSchema.parse({})),
  http: httpSchema.default(httpSchema.parse({})),
  ws: wsSchema.default(wsSchema.parse({})),
  journal: journalSchema.default(journalSchema.parse({})),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type AssetConfig = z.output<typeof assetSchema>;
export type MarketConfig = z.output<typeof marketSchema>;
export type EngineConfig = z.output<typeof engineSchema>;
export type HttpConfig = z.output<typeof httpSchema>;
export type HttpAdminConfig = z.output<typeof httpAdminSchema>;
export type WsConfig = z.output<typeof wsSchema>;
export type JournalConfig = z.output<typeof journalSchema>;
export type WsAuthConfig = z.output<typeof wsAuthSchema>;
