import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Stat } from '../../drivers/contract.js';
import { toStat, type DockerStatsJson } from '../../drivers/docker/stats.js';

const NOW = 1_700_000_000_000;
const zeros = {
  cpu_user: 0,
  cpu_kernel: 0,
  cpu_total: 0,
  mem_usage: 0,
  mem_limit: 0,
  net_rx: 0,
  net_tx: 0,
  disk_read: 0,
  disk_write: 0,
};

// Trimmed from `docker stats` JSON on a cgroup v1 host: blkio ops are capitalised and
// there are entries per device, plus Sync/Async/Total that must not be counted.
const v1: DockerStatsJson = {
  read: '2024-05-01T12:00:00.123456789Z',
  cpu_stats: { cpu_usage: { total_usage: 123_456_789, usage_in_usermode: 100_000_000, usage_in_kernelmode: 20_000_000 } },
  memory_stats: { usage: 10_485_760, limit: 134_217_728 },
  networks: { eth0: { rx_bytes: 1_000, tx_bytes: 2_000 } },
  blkio_stats: {
    io_service_bytes_recursive: [
      { op: 'Read', value: 4096 },
      { op: 'Write', value: 8192 },
      { op: 'Sync', value: 12288 },
      { op: 'Async', value: 0 },
      { op: 'Discard', value: 0 },
      { op: 'Total', value: 12288 },
      { op: 'Read', value: 100 },
      { op: 'Write', value: 200 },
      { op: 'Total', value: 300 },
    ],
  },
};

// cgroup v2: lowercase ops, only read/write.
const v2: DockerStatsJson = {
  read: '2024-05-01T12:00:01.5Z',
  cpu_stats: { cpu_usage: { total_usage: 55_000, usage_in_usermode: 40_000, usage_in_kernelmode: 15_000 } },
  memory_stats: { usage: 2_097_152, limit: 268_435_456 },
  networks: { eth0: { rx_bytes: 10, tx_bytes: 20 } },
  blkio_stats: {
    io_service_bytes_recursive: [
      { op: 'read', value: 512 },
      { op: 'write', value: 1024 },
    ],
  },
};

const cases: { name: string; input: DockerStatsJson; expected: Stat }[] = [
  {
    name: 'a cgroup v1 sample: capitalised ops summed over devices, other ops ignored',
    input: v1,
    expected: {
      timestamp: Date.parse('2024-05-01T12:00:00.123Z'),
      metrics: {
        cpu_user: 100_000_000,
        cpu_kernel: 20_000_000,
        cpu_total: 123_456_789,
        mem_usage: 10_485_760,
        mem_limit: 134_217_728,
        net_rx: 1_000,
        net_tx: 2_000,
        disk_read: 4196,
        disk_write: 8392,
      },
    },
  },
  {
    name: 'a cgroup v2 sample: lowercase ops',
    input: v2,
    expected: {
      timestamp: Date.parse('2024-05-01T12:00:01.500Z'),
      metrics: {
        cpu_user: 40_000,
        cpu_kernel: 15_000,
        cpu_total: 55_000,
        mem_usage: 2_097_152,
        mem_limit: 268_435_456,
        net_rx: 10,
        net_tx: 20,
        disk_read: 512,
        disk_write: 1024,
      },
    },
  },
  {
    name: 'several networks are summed',
    input: {
      read: '2024-05-01T12:00:00Z',
      networks: { eth0: { rx_bytes: 1, tx_bytes: 10 }, eth1: { rx_bytes: 100, tx_bytes: 1000 }, lo: { rx_bytes: 5 } },
    },
    expected: { timestamp: Date.parse('2024-05-01T12:00:00Z'), metrics: { ...zeros, net_rx: 106, net_tx: 1010 } },
  },
  {
    name: 'an empty object gives zeros and now',
    input: {},
    expected: { timestamp: NOW, metrics: zeros },
  },
  {
    name: 'empty sections give zeros',
    input: { read: '2024-05-01T12:00:00Z', cpu_stats: {}, memory_stats: {}, networks: {}, blkio_stats: {} },
    expected: { timestamp: Date.parse('2024-05-01T12:00:00Z'), metrics: zeros },
  },
  {
    name: 'empty nested sections give zeros',
    input: { cpu_stats: { cpu_usage: {} }, networks: { eth0: {} }, blkio_stats: { io_service_bytes_recursive: [] } },
    expected: { timestamp: NOW, metrics: zeros },
  },
  {
    // Docker sends null for io_service_bytes_recursive when it has no block I/O stats.
    name: 'a null blkio list gives zeros',
    input: { blkio_stats: { io_service_bytes_recursive: null }, memory_stats: { usage: 7 } },
    expected: { timestamp: NOW, metrics: { ...zeros, mem_usage: 7 } },
  },
  {
    name: 'blkio entries without op or value are ignored or count 0',
    input: { blkio_stats: { io_service_bytes_recursive: [{ value: 99 }, { op: 'Read' }, { op: 'write', value: 3 }] } },
    expected: { timestamp: NOW, metrics: { ...zeros, disk_write: 3 } },
  },
  {
    name: 'only memory usage, no limit',
    input: { memory_stats: { usage: 4096 } },
    expected: { timestamp: NOW, metrics: { ...zeros, mem_usage: 4096 } },
  },
  {
    name: 'the zero time of a stopped container falls back to now',
    input: { ...v2, read: '0001-01-01T00:00:00Z' },
    expected: { timestamp: NOW, metrics: toStat(v2, NOW).metrics },
  },
  {
    name: 'an empty read falls back to now',
    input: { read: '' },
    expected: { timestamp: NOW, metrics: zeros },
  },
  {
    name: 'an unparsable read falls back to now',
    input: { read: 'not a time' },
    expected: { timestamp: NOW, metrics: zeros },
  },
];

for (const c of cases) {
  test(`toStat: ${c.name}`, () => {
    assert.deepEqual(toStat(c.input, NOW), c.expected);
  });
}

test('toStat: now defaults to the current time', () => {
  const before = Date.now();
  const s = toStat({ read: '0001-01-01T00:00:00Z' });
  const after = Date.now();
  assert.ok(s.timestamp >= before && s.timestamp <= after, `${s.timestamp} in [${before}, ${after}]`);
});

test('toStat: a valid read is used even when now is given', () => {
  assert.equal(toStat({ read: '2020-01-01T00:00:00.000Z' }, NOW).timestamp, Date.UTC(2020, 0, 1));
});

test('toStat: gives exactly Fn\'s metric names', () => {
  assert.deepEqual(Object.keys(toStat(v1, NOW).metrics).sort(), Object.keys(zeros).sort());
});
