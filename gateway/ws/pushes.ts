/**
 * From engine events to user pushes, per event batch, in event order:
 *  - order.update [event, order] for each ORDER event, to the connections of the order's user that
 *    follow its market (makers get their update/finish events too);
 *  - asset.update [{ASSET: {available, freeze}}] read from the shared balance table, at most once
 *    per (connection, asset) per batch, for every (user, asset) the batch touched: BALANCE and
 *    DELTA events name it, ORDER and DEAL events touch their market's stock and money;
 *  - the books of markets with ORDER or DEAL events are marked changed for the depth feeds.
 */
import { EventKind, type EventRecord } from '../../engine/core/events.js';
import type { OrderView } from '../../engine/core/order-view.js';
import type { EngineBackend } from '../rpc/backend.js';
import { orderInfo, shownBalance } from '../rpc/format.js';
import type { DepthFeeds } from './depth-feed.js';
import { pushText } from './envelope.js';
import type { UserSubscriptions } from './subscriptions.js';

export interface PushTargets {
  readonly backend: EngineBackend;
  readonly orders: UserSubscriptions;
  readonly assets: UserSubscriptions;
  readonly depth: DepthFeeds;
}

/** Sends the pushes one batch of engine events causes. Allocates (per batch, not per order). */
export function pushEvents(targets: PushTargets, records: readonly EventRecord[]): void {
  const touched = new Map<number, Set<number>>();
  const touch = (user: number, asset: number): void => {
    if (targets.assets.followersOf(user) === undefined) return;
    let assets = touched.get(user);
    if (assets === undefined) {
      assets = new Set();
      touched.set(user, assets);
    }
    assets.add(asset);
  };
  const touchMarket = (user: number, market: number): void => {
    const spec = targets.backend.specs.markets[market];
    if (spec === undefined) return;
    touch(user, spec.stock.index);
    touch(user, spec.money.index);
  };
  for (const record of records) {
    switch (record.kind) {
      case EventKind.ORDER:
        orderUpdate(targets, record.event, record.order);
        touchMarket(record.order.user, record.order.market);
        targets.depth.bookChanged(record.order.market);
        break;
      case EventKind.DEAL:
        touchMarket(record.askUser, record.market);
        touchMarket(record.bidUser, record.market);
        targets.depth.bookChanged(record.market);
        break;
      case EventKind.BALANCE:
      case EventKind.DELTA:
        touch(record.user, record.asset);
        break;
      default:
        break;
    }
  }
  for (const [user, assets] of touched) assetUpdates(targets, user, assets);
}

function orderUpdate(targets: PushTargets, event: number, order: OrderView): void {
  const followers = targets.orders.followersOf(order.user);
  if (followers === undefined) return;
  let text: string | null = null;
  for (const [session, markets] of followers) {
    if (!markets.has(order.market)) continue;
    text ??= pushText('order.update', [event, orderInfo(targets.backend, order)]);
    session.send(text);
  }
}

function assetUpdates(targets: PushTargets, user: number, assets: ReadonlySet<number>): void {
  const followers = targets.assets.followersOf(user);
  if (followers === undefined) return;
  const texts = new Map<number, string>();
  const balances = targets.backend.balances;
  for (const [session, followed] of followers) {
    for (const asset of assets) {
      if (!followed.has(asset)) continue;
      let text = texts.get(asset);
      if (text === undefined) {
        const spec = targets.backend.specs.assets[asset]!;
        const row = balances.users.find(user);
        const balance = row < 0
          ? { available: '0', freeze: '0' }
          : { available: shownBalance(spec, balances.available(row, asset)), freeze: shownBalance(spec, balances.frozen(row, asset)) };
        text = pushText('asset.update', [{ [spec.name]: balance }]);
        texts.set(asset, text);
      }
      session.send(text);
    }
  }
}
