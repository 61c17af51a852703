/**
 * Worker entry of a segment writer's spare preparer (segment-spare.ts): wiring only. Runs until
 * the writer stops it; failures are reported through the shared state cell.
 */
import { workerData } from 'node:worker_threads';
import { runSparePreparer, type SpareJob } from './segment-spare.js';

runSparePreparer(workerData as SpareJob);
