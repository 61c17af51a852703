/**
 * Latency recording for benchmarks: HDR histograms of nanoseconds, reported in microseconds.
 */
import { build, type Histogram } from 'hdr-histogram-js';

/** A histogram of nanoseconds from 1 ns to 100 s with 3 significant digits. */
export function nanosHistogram(): Histogram {
  return build({ lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000_000, numberOfSignificantValueDigits: 3 });
}

export interface LatencySummary {
  readonly p50_us: number | null;
  readonly p99_us: number | null;
  readonly p999_us: number | null;
  readonly max_us: number | null;
  readonly samples: number;
}

/** Percentiles in microseconds (3 decimals); nulls when nothing was recorded. */
export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { p50_us: null, p99_us: null, p999_us: null, max_us: null, samples: 0 };
  const us = (ns: number): number => Math.round(ns) / 1000;
  return {
    p50_us: us(h.getValueAtPercentile(50)),
    p99_us: us(h.getValueAtPercentile(99)),
    p999_us: us(h.getValueAtPercentile(99.9)),
    max_us: us(h.maxValue),
    samples: h.totalCount,
  };
}

/** Median cost of one process.hrtime.bigint() pair, in ns: the floor under every timed sample. */
export function clockOverheadNs(rounds = 20_000): number {
  const h = nanosHistogram();
  for (let i = 0; i < rounds; i++) {
    const t0 = process.hrtime.bigint();
    h.recordValue(Number(process.hrtime.bigint() - t0));
  }
  const median = h.getValueAtPercentile(50);
  h.destroy();
  return median;
}
