/**
 * The machine a benchmark ran on, for the table header and every JSON line.
 */
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memory_gib: number;
  readonly node: string;
  readonly platform: string;
  /** 1-minute load average when the run ended: above ~1 other work shared the cores and the figures are low. */
  readonly load_1m: number;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    load_1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
  };
}
