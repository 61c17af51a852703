/**
 * Embedded defaults: the all-in-one exchange runs on these when no config file is given.
 * Assets and markets follow the original's shipped config (BTC, BCH, LTC, ETH ...), except that
 * balances keep at most 12 decimals so that every balance fits a signed 64-bit integer
 * (the original's BCH kept 20; see README, "Differences from ViaBTC").
 */
import type { ConfigInput } from './schema.js';

export const defaultConfig: ConfigInput = {
  assets: [
    { name: 'BCH', prec_save: 12, prec_show: 8 },
    { name: 'BTC', prec_save: 12, prec_show: 8 },
    { name: 'LTC', prec_save: 12, prec_show: 8 },
    { name: 'ETH', prec_save: 12, prec_show: 8 },
    { name: 'USDT', prec_save: 8, prec_show: 8 },
  ],
  markets: [
    { name: 'BTCBCH', stock: { name: 'BTC', prec: 8 }, money: { name: 'BCH', prec: 8 }, fee_prec: 4, min_amount: '0.001' },
    { name: 'LTCBCH', stock: { name: 'LTC', prec: 8 }, money: { name: 'BCH', prec: 8 }, fee_prec: 4, min_amount: '0.001' },
    { name: 'ETHBCH', stock: { name: 'ETH', prec: 8 }, money: { name: 'BCH', prec: 8 }, fee_prec: 4, min_amount: '0.001' },
    { name: 'BTCUSDT', stock: { name: 'BTC', prec: 6 }, money: { name: 'USDT', prec: 2 }, fee_prec: 4, min_amount: '0.0001' },
  ],
};
