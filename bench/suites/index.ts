/**
 * The registry of benchmark suites. Adding a suite: one import and one line in `suites`.
 */
import { engineSuite } from './engine.js';
import { journalSuite } from './journal.js';
import { loadSuite } from './load.js';
import { shardsSuite } from './shards.js';
import type { Suite } from './types.js';

export const suites: readonly Suite[] = [
  engineSuite,
  journalSuite,
  loadSuite,
  shardsSuite,
];

export function findSuite(name: string): Suite | undefined {
  return suites.find((s) => s.name === name);
}
