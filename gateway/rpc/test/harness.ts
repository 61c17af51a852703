/** An in-process engine behind the RPC method layer, for protocol scenario tests. */
import { validateConfig } from '../../../conf/load.js';
import type { ConfigInput } from '../../../conf/schema.js';
import { defaultConfig } from '../../../conf/defaults.js';
import { Engine } from '../../../engine/engine.js';
import { LocalBackend } from '../backend.js';
import { callEngineMethod, type RpcOutcome } from '../engine-methods.js';

export class RpcHarness {
  readonly engine: Engine;
  /** The clock, microseconds; tests advance it explicitly. */
  time = 1_700_000_000_000_000;

  private readonly backend: LocalBackend;

  constructor(config: ConfigInput = defaultConfig) {
    this.engine = new Engine(validateConfig(config));
    this.backend = new LocalBackend(this.engine);
  }

  call(method: string, ...params: unknown[]): RpcOutcome {
    this.engine.events.reset();
    const outcome = callEngineMethod({ backend: this.backend, now: () => this.time }, method, params);
    if (outcome instanceof Promise) throw new Error('a local backend answers synchronously');
    return outcome;
  }

  /** The result of a call that must succeed. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- scenario tests read result fields freely
  ok(method: string, ...params: unknown[]): any {
    const outcome = this.call(method, ...params);
    if ('error' in outcome) throw new Error(`${method} failed: ${JSON.stringify(outcome.error)}`);
    return outcome.result;
  }

  /** The error code of a call that must fail. */
  err(method: string, ...params: unknown[]): { code: number; message: string } {
    const outcome = this.call(method, ...params);
    if (!('error' in outcome)) throw new Error(`${method} succeeded: ${JSON.stringify(outcome.result)}`);
    return outcome.error;
  }

  deposit(user: number, asset: string, amount: string, businessId = this.nextBusinessId++): void {
    this.ok('balance.update', user, asset, 'deposit', businessId, amount, {});
  }

  private nextBusinessId = 1;
}
