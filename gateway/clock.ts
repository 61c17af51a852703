/** Wall-clock time in whole microseconds since the epoch (performance.timeOrigin + performance.now()). */
export function microsNow(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}
