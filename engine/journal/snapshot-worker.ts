/**
 * Worker entry of the snapshot writer (snapshot-writer.ts): wiring only. Writes the job it was
 * started with, posts where the file went, and ends; an exception reaches the router as 'error'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { writeSnapshotJob, type SnapshotJob } from './snapshot-writer.js';

parentPort?.postMessage(writeSnapshotJob(workerData as SnapshotJob));
