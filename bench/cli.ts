/**
 * The benchmark command for operators:
 *
 *   npm run bench -- <suite> [--json] [--commands N] [--seed S]
 *
 * Prints a table per suite (commands/s, deals/s, latency percentiles) with the machine it ran on,
 * or with --json exactly one JSON object per line per workload. Progress goes to stderr.
 * Exit codes: 0 done, 1 a run or its result check failed, 2 bad usage (unknown suite or option).
 */
import Table from 'cli-table3';
import { parseArgs } from 'node:util';
import { machineInfo, type MachineInfo } from './lib/machine.js';
import { findSuite, suites } from './suites/index.js';
import type { Suite, WorkloadResult } from './suites/types.js';

const DEFAULT_SEED = 42;

function usage(): string {
  const list = suites.map((s) => `  ${s.name.padEnd(10)} ${s.description} (workloads: ${s.workloads.join(', ')})`).join('\n');
  return [
    'usage: npm run bench -- <suite> [--json] [--commands N] [--seed S] [--workload NAME]...',
    '       node dist/bench/cli.js <suite> [options]',
    '',
    'suites:',
    list,
    '',
    'options:',
    '  --json          one JSON object per line per workload instead of the table',
    "  --commands N    commands per workload (default: the suite's own)",
    `  --seed S        seed of the workload generator, 0 to 2^32-1 (default ${DEFAULT_SEED})`,
    "  --workload NAME run only this workload (repeatable; default: all of the suite's)",
    "  --seconds N     seconds per timed phase (suite load; default 10)",
    "  --connections N client connections (suite load; default: the workload's)",
    '  --shards N      engine.shards of the server a suite starts (suite load; default 1)',
    '  --rate N        open-loop requests/s (suite load; default: half the measured peak)',
    '  -h, --help      this text',
  ].join('\n');
}

class UsageError extends Error {}

interface Args {
  readonly suite: Suite;
  readonly json: boolean;
  readonly commands: number | undefined;
  readonly seed: number;
  readonly only: readonly string[] | undefined;
  readonly seconds: number | undefined;
  readonly connections: number | undefined;
  readonly shards: number | undefined;
  readonly rate: number | undefined;
}

function parse(argv: readonly string[]): Args | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean', default: false },
        commands: { type: 'string' },
        seed: { type: 'string' },
        workload: { type: 'string', multiple: true },
        seconds: { type: 'string' },
        connections: { type: 'string' },
        shards: { type: 'string' },
        rate: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'no suite given' : `one suite at a time, got ${positionals.join(' ')}`);
  const name = positionals[0]!;
  const suite = findSuite(name);
  if (suite === undefined) throw new UsageError(`unknown suite "${name}"; known suites: ${suites.map((s) => s.name).join(', ')}`);
  return {
    suite,
    json: values.json,
    commands: values.commands === undefined ? undefined : integer('--commands', values.commands, 1, Number.MAX_SAFE_INTEGER),
    seed: values.seed === undefined ? DEFAULT_SEED : integer('--seed', values.seed, 0, 0xffffffff),
    only: workloads(suite, values.workload),
    seconds: values.seconds === undefined ? undefined : integer('--seconds', values.seconds, 1, 3600),
    connections: values.connections === undefined ? undefined : integer('--connections', values.connections, 1, 4096),
    shards: values.shards === undefined ? undefined : integer('--shards', values.shards, 1, 64),
    rate: values.rate === undefined ? undefined : integer('--rate', values.rate, 1, 10_000_000),
  };
}

function workloads(suite: Suite, names: readonly string[] | undefined): readonly string[] | undefined {
  if (names === undefined) return undefined;
  const unknown = names.filter((name) => !suite.workloads.includes(name));
  if (unknown.length > 0) {
    throw new UsageError(`suite ${suite.name} has no workload ${unknown.join(', ')}; it has ${suite.workloads.join(', ')}`);
  }
  return names;
}

function integer(option: string, text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text.replace(/_/g, '')) ? Number(text.replace(/_/g, '')) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${option} must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}

function jsonLine(suite: string, r: WorkloadResult, machine: MachineInfo, seed: number, date: string): string {
  return JSON.stringify({
    suite,
    name: r.name,
    commands: r.commands,
    seconds: r.seconds,
    ops_per_sec: r.ops_per_sec,
    deals: r.deals,
    deals_per_sec: r.deals_per_sec,
    cpu_seconds: r.cpu_seconds,
    p50_us: r.p50_us,
    p99_us: r.p99_us,
    p999_us: r.p999_us,
    ...r.extra,
    seed,
    date,
    ...machine,
    notes: r.notes,
  });
}

function table(suite: string, results: readonly WorkloadResult[], machine: MachineInfo, seed: number, date: string): string {
  const t = new Table({
    head: ['workload', 'commands', 'seconds', 'cpu s', 'ops/s', 'deals', 'deals/s', 'p50 µs', 'p99 µs', 'p99.9 µs'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    style: { head: [], border: [] },
  });
  const n = (x: number): string => x.toLocaleString('en-US');
  const us = (x: number | null): string => (x === null ? '—' : x.toFixed(x < 10 ? 2 : 1));
  for (const r of results) {
    t.push([r.name, n(r.commands), r.seconds.toFixed(3), r.cpu_seconds.toFixed(3), n(r.ops_per_sec), n(r.deals), n(r.deals_per_sec), us(r.p50_us), us(r.p99_us), us(r.p999_us)]);
  }
  const lines = [
    `suite ${suite} — seed ${seed} — ${date}`,
    `machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, node ${machine.node}, ${machine.platform}, load ${machine.load_1m}`,
    t.toString(),
  ];
  const standard = results[0];
  if (standard !== undefined) {
    for (const peer of results.filter((r) => r.name.startsWith('peer-'))) {
      lines.push(`${standard.name} runs ${(standard.ops_per_sec / peer.ops_per_sec).toFixed(1)}× the commands/s of ${peer.name}`);
    }
  }
  for (const r of results) {
    if (r.cpu_seconds < 0.8 * r.seconds) {
      lines.push(`warning: ${r.name} had the CPU for only ${Math.round((100 * r.cpu_seconds) / r.seconds)}% of its run (load ${machine.load_1m}): other processes shared the cores, its figures are low`);
    }
  }
  const notes = [...new Set(results.flatMap((r) => r.notes))];
  if (notes.length > 0) lines.push('notes:', ...notes.map((note) => `  - ${note}`));
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  let args: Args | 'help';
  try {
    args = parse(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${usage()}\n`);
    return 2;
  }
  if (args === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  const { suite, json, commands, seed, only, seconds, connections, shards, rate } = args;
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const results = await suite.run({ commands, seed, only, log, seconds, connections, shards, rate });
  const machine = machineInfo();
  const date = new Date().toISOString();
  if (json) {
    for (const r of results) process.stdout.write(`${jsonLine(suite.name, r, machine, seed, date)}\n`);
  } else {
    process.stdout.write(`${table(suite.name, results, machine, seed, date)}\n`);
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
