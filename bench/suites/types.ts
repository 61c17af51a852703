/**
 * The contract every benchmark suite follows, so that `npm run bench -- <suite> [--json]` prints
 * the same table and the same JSON lines whatever the suite measures.
 */

export interface SuiteOptions {
  /** Commands (or requests) per workload; undefined = the suite's own default. */
  readonly commands: number | undefined;
  /** Seed of the workload generator: the same seed gives the same command stream. */
  readonly seed: number;
  /** Names of the workloads to run; undefined = all of them, in the suite's order. */
  readonly only: readonly string[] | undefined;
  /** Progress for the operator; goes to stderr, never into the JSON output. */
  readonly log: (line: string) => void;
  /** Suites that run for a time (load): seconds per timed phase; undefined = the suite's own. */
  readonly seconds?: number | undefined;
  /** Suites that drive a server (load): client connections; undefined = the suite's own. */
  readonly connections?: number | undefined;
  /** Suites that start the exchange (load): engine.shards; undefined = 1. */
  readonly shards?: number | undefined;
  /** Suites with an open-loop phase (load): its rate in requests/s; undefined = half the measured peak. */
  readonly rate?: number | undefined;
}

/** One measured workload. Percentiles are null when the workload does not measure latency. */
export interface WorkloadResult {
  readonly name: string;
  readonly commands: number;
  /** Wall-clock time of the measured run. */
  readonly seconds: number;
  readonly ops_per_sec: number;
  readonly deals: number;
  readonly deals_per_sec: number;
  /** CPU time (user + system, all threads) the process used during the measured run. */
  readonly cpu_seconds: number;
  readonly p50_us: number | null;
  readonly p99_us: number | null;
  readonly p999_us: number | null;
  /** Further figures, added to the JSON object as they are (keys in snake_case). */
  readonly extra: Readonly<Record<string, number | string | boolean>>;
  /** What the operator must know to read the figures (method, what a peer does not do, ...). */
  readonly notes: readonly string[];
}

export interface Suite {
  readonly name: string;
  readonly description: string;
  /** The workloads it runs, in order; the first is the suite's standard workload. */
  readonly workloads: readonly string[];
  /** Runs every workload and checks its result; throws when a check fails. */
  run(options: SuiteOptions): Promise<WorkloadResult[]>;
}
