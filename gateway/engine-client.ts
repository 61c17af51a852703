/**
 * What the gateways need from the engine: run one protocol method and get the protocol outcome.
 * The in-process client calls the method layer directly; the sharded client (engine/router) sends
 * binary commands over rings. Gateways depend only on this interface.
 */
import type { Engine } from '../engine/engine.js';
import { microsNow } from './clock.js';
import type { Router } from '../engine/router/router.js';
import { LocalBackend } from './rpc/backend.js';
import { callEngineMethod, engineMethodNames, type RpcContext, type RpcOutcome } from './rpc/engine-methods.js';

export interface EngineClient {
  /** Method names this client serves. */
  readonly methods: ReadonlySet<string>;
  /** Runs one method. Bad params resolve to the protocol's error; the promise never rejects on client input. */
  call(method: string, params: readonly unknown[]): Promise<RpcOutcome>;
}

/** An engine in this thread: every call runs synchronously; the promise only matches the interface. */
export class InProcessEngineClient implements EngineClient {
  readonly methods: ReadonlySet<string> = new Set(engineMethodNames);
  private readonly context: RpcContext;

  constructor(readonly engine: Engine, clock: () => number = microsNow) {
    this.context = { backend: new LocalBackend(engine), now: clock };
  }

  call(method: string, params: readonly unknown[]): Promise<RpcOutcome> {
    this.engine.events.reset();
    return Promise.resolve(callEngineMethod(this.context, method, params));
  }
}

/** The sharded engine behind a router: commands travel over the shards' rings. */
export class ShardedEngineClient implements EngineClient {
  readonly methods: ReadonlySet<string> = new Set(engineMethodNames);
  private readonly context: RpcContext;

  constructor(readonly router: Router, clock: () => number = microsNow) {
    this.context = { backend: router, now: clock };
  }

  call(method: string, params: readonly unknown[]): Promise<RpcOutcome> {
    return Promise.resolve(callEngineMethod(this.context, method, params));
  }
}
