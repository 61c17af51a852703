/**
 * The 23 methods of ViaBTC's HTTP JSON-RPC protocol (accesshttp), and which of them are admin-only.
 * A protocol method that no connected service serves answers "service unavailable", as the
 * original did while a backend was down; any other name is "method not found".
 */
export const PROTOCOL_METHODS: readonly string[] = [
  'asset.list', 'asset.summary',
  'balance.query', 'balance.update', 'balance.history',
  'order.put_limit', 'order.put_market', 'order.cancel',
  'order.book', 'order.depth', 'order.pending', 'order.pending_detail',
  'order.deals', 'order.finished', 'order.finished_detail',
  'market.list', 'market.summary',
  'market.last', 'market.deals', 'market.kline', 'market.status', 'market.status_today',
  'market.user_deals',
];

/** Methods that move money without a trade (deposits, withdrawals): see AdminAccess. */
export const ADMIN_METHODS: ReadonlySet<string> = new Set(['balance.update']);
