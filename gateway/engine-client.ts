/**
 * What the gateways need from the engine: run one protocol method and get the protocol outcome.
 * The in-process client calls the method layer directly; the sharded client (engine/router) sends
 * binary commands over rings. Gateways depend only on this interface.
 */
import type { Engine } from '../engine/engine.js';
import { microsNow } from './clock.js';
import { decodeEvents } from '../engine/core/events.js';
import type { EventListener, Router } from '../engine/router/router.js';
import { LocalBackend, type EngineBackend } from './rpc/backend.js';
import { callEngineMethod, engineMethodNames, type RpcContext, type RpcOutcome } from './rpc/engine-methods.js';

export interface EngineClient {
  /** Method names this client serves. */
  readonly methods: ReadonlySet<string>;
  /** Runs one method. Bad params resolve to the protocol's error; the promise never rejects on client input. */
  call(method: string, params: readonly unknown[]): Promise<RpcOutcome>;
  /**
   * Listens to the engine's events (order put/update/finish, deals, balance updates), in the
   * order the engine produced them (per shard), once the command that caused them has run.
   */
  onEvents(listener: EventListener): void;
  /** Resolves names in events: market and asset specs, source labels. */
  readonly backend: EngineBackend;
}

/** An engine in this thread: every call runs synchronously; the promise only matches the interface. */
export class InProcessEngineClient implements EngineClient {
  readonly methods: ReadonlySet<string> = new Set(engineMethodNames);
  private readonly context: RpcContext;

  readonly backend: LocalBackend;
  private readonly listeners: EventListener[] = [];

  constructor(readonly engine: Engine, clock: () => number = microsNow) {
    this.backend = new LocalBackend(engine);
    this.context = { backend: this.backend, now: clock };
  }

  call(method: string, params: readonly unknown[]): Promise<RpcOutcome> {
    const events = this.engine.events;
    events.reset();
    const outcome = Promise.resolve(callEngineMethod(this.context, method, params));
    if (events.count > 0 && this.listeners.length > 0) {
      const records = decodeEvents(events.data(), events.strings);
      void outcome.then(() => {
        for (const listener of this.listeners) listener(records);
      });
    }
    return outcome;
  }

  onEvents(listener: EventListener): void {
    this.listeners.push(listener);
  }
}

/** The sharded engine behind a router: commands travel over the shards' rings. */
export class ShardedEngineClient implements EngineClient {
  readonly methods: ReadonlySet<string> = new Set(engineMethodNames);
  private readonly context: RpcContext;

  readonly backend: EngineBackend;

  constructor(readonly router: Router, clock: () => number = microsNow) {
    this.backend = router;
    this.context = { backend: router, now: clock };
  }

  onEvents(listener: EventListener): void {
    this.router.onEvents(listener);
  }

  call(method: string, params: readonly unknown[]): Promise<RpcOutcome> {
    return Promise.resolve(callEngineMethod(this.context, method, params));
  }
}
