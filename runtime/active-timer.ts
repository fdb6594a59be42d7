// A timeout that counts only the time the container ran. The agent freezes an idle container
// (docker pause: every process in it stops) while the clocks run on, so a wall-clock timer set
// before a freeze fires the moment the container is thawed, before a peer frozen with it (a
// Telemetry subscriber about to answer) has had the CPU to do anything.
import { performance } from 'node:perf_hooks';

/** How often the time run is counted. */
const TICK_MS = 100;
/** A gap between two ticks this long is a freeze (the daemon never holds its event loop that long). */
const FROZEN_GAP_MS = 1000;

export interface ActiveTimer {
  clear(): void;
}

/** Calls `fn` once `ms` of the container's running time have passed; a frozen spell counts as one tick. */
export function activeTimeout(ms: number, fn: () => void): ActiveTimer {
  let left = ms;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    const gap = now - last;
    last = now;
    left -= gap >= FROZEN_GAP_MS ? TICK_MS : gap;
    if (left > 0) return;
    clearInterval(tick);
    fn();
  }, TICK_MS);
  return { clear: () => clearInterval(tick) };
}
