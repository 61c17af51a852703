/**
 * The group committer, on the router's thread: whenever shards have written journal frames it
 * closes the current epoch (advance), waits until no shard still journals in it (each shard has
 * written and fdatasync'd its own frames by then), records the epoch in the commit log, and
 * publishes it as durable — which releases the shards' acknowledgements for that epoch.
 * Never blocks the event loop: it waits with Atomics.waitAsync and does file I/O on libuv's pool.
 */
import { CommitLog } from './commit-log.js';
import { EpochControl } from './epochs.js';

type WaitAsync = (cells: BigInt64Array, index: number, value: bigint, timeoutMs: number) =>
  { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export class Committer {
  /** Epochs made durable, for metrics and benchmarks. */
  commits = 0;
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly control: EpochControl, private readonly shards: number, private readonly log: CommitLog) {
    this.done = this.loop();
  }

  /** Stops after the epoch in progress; call once the shards have exited. */
  async stop(): Promise<void> {
    this.running = false;
    Atomics.notify(this.control.cells, EpochControl.APPENDS_INDEX);
    await this.done;
    this.log.close();
  }

  private async loop(): Promise<void> {
    let seen = this.control.appends;
    while (this.running) {
      const appends = this.control.appends;
      if (appends === seen) {
        const waited = waitAsync(this.control.cells, EpochControl.APPENDS_INDEX, seen, 100);
        if (waited.async) await waited.value;
        continue;
      }
      seen = appends;
      const closing = this.control.advance();
      while (this.control.anyActiveIn(closing, this.shards)) await new Promise((resolve) => setImmediate(resolve));
      await this.log.record(closing);
      this.control.publishDurable(closing);
      this.commits++;
    }
  }
}
