/**
 * What the gateways need from the engine: run one protocol method and get the protocol outcome.
 * The in-process client calls the method layer directly; the sharded client (engine/router) sends
 * binary commands over rings. Gateways depend only on this interface.
 */
import type { CodeValue } from '../engine/codes.js';
import type { Engine } from '../engine/engine.js';
import { microsNow } from './clock.js';
import { decodeEvents } from '../engine/core/events.js';
import type { EventListener, ReplyCallback, Router } from '../engine/router/router.js';
import { LocalBackend, type EngineBackend } from './rpc/backend.js';
import { callEngineMethod, engineMethodNames, type RpcContext, type RpcOutcome } from './rpc/engine-methods.js';
import { submitOrder, type OrderCommand } from './rpc/order-entry.js';

export interface EngineClient {
  /** Method names this client serves. */
  readonly methods: ReadonlySet<string>;
  /** Runs one method. Bad params resolve to the protocol's error; the promise never rejects on client input. */
  call(method: string, params: readonly unknown[]): Promise<RpcOutcome>;
  /**
   * Order entry without a promise per command (WebSocket order entry): sends a checked place or
   * cancel, stamped with the current time. Code.OK when sent — `done` is then called exactly once
   * with the reply (valid only during the call) — else why it was not sent (BUSY, ENGINE_STOPPED, …).
   */
  submitOrder(command: OrderCommand, done: ReplyCallback): CodeValue;
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

  constructor(readonly engine: Engine, private readonly clock: () => number = microsNow) {
    this.backend = new LocalBackend(engine);
    this.context = { backend: this.backend, now: clock };
  }

  call(method: string, params: readonly unknown[]): Promise<RpcOutcome> {
    this.engine.events.reset();
    const outcome = Promise.resolve(callEngineMethod(this.context, method, params));
    this.emitEvents(outcome);
    return outcome;
  }

  submitOrder(command: OrderCommand, done: ReplyCallback): CodeValue {
    this.engine.events.reset();
    const code = submitOrder(this.backend, command, this.clock(), done);
    this.emitEvents(Promise.resolve());
    return code;
  }

  /** Hands the events of the command just run to the listeners once `answered` settles (after its reply). */
  private emitEvents(answered: Promise<unknown>): void {
    const events = this.engine.events;
    if (events.count === 0 || this.listeners.length === 0) return;
    const records = decodeEvents(events.data(), events.strings);
    void answered.then(() => {
      for (const listener of this.listeners) listener(records);
    });
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

  constructor(readonly router: Router, private readonly clock: () => number = microsNow) {
    this.backend = router;
    this.context = { backend: router, now: clock };
  }

  submitOrder(command: OrderCommand, done: ReplyCallback): CodeValue {
    return submitOrder(this.router, command, this.clock(), done);
  }

  onEvents(listener: EventListener): void {
    this.router.onEvents(listener);
  }

  call(method: string, params: readonly unknown[]): Promise<RpcOutcome> {
    return Promise.resolve(callEngineMethod(this.context, method, params));
  }
}
