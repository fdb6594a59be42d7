// Docker's stats JSON (cgroup v1 or v2) as a Stat with Fn's metric names.
import type { Stat } from '../contract.js';

interface BlkioEntry { op?: string; value?: number }
export interface DockerStatsJson {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number; usage_in_usermode?: number; usage_in_kernelmode?: number } };
  memory_stats?: { usage?: number; limit?: number };
  networks?: Record<string, { rx_bytes?: number; tx_bytes?: number }>;
  blkio_stats?: { io_service_bytes_recursive?: BlkioEntry[] | null };
}

export function toStat(s: DockerStatsJson, nowMs: number = Date.now()): Stat {
  const cpu = s.cpu_stats?.cpu_usage ?? {};
  let rx = 0;
  let tx = 0;
  for (const n of Object.values(s.networks ?? {})) {
    rx += n.rx_bytes ?? 0;
    tx += n.tx_bytes ?? 0;
  }
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = (e.op ?? '').toLowerCase();
    if (op === 'read') read += e.value ?? 0;
    else if (op === 'write') write += e.value ?? 0;
  }
  const parsed = s.read ? Date.parse(s.read) : NaN;
  // A paused or stopped container reports the zero time.
  const timestamp = Number.isFinite(parsed) && parsed > 0 ? parsed : nowMs;
  return {
    timestamp,
    metrics: {
      cpu_user: cpu.usage_in_usermode ?? 0,
      cpu_kernel: cpu.usage_in_kernelmode ?? 0,
      cpu_total: cpu.total_usage ?? 0,
      mem_usage: s.memory_stats?.usage ?? 0,
      mem_limit: s.memory_stats?.limit ?? 0,
      net_rx: rx,
      net_tx: tx,
      disk_read: read,
      disk_write: write,
    },
  };
}
