/** Worker entry of the open loops' clock (pacer.ts): wiring only. */
import { workerData } from 'node:worker_threads';
import { runTicks, type PacerTask } from './pacer.js';

runTicks(workerData as PacerTask);
