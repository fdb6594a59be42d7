// A chart spec (charts.ts) drawn as a small inline SVG line chart with an HTML caption.
import { pathData, scalePoints, type Box, type ChartSpec, type Unit } from '../charts.js';
import { h, s } from '../dom.js';
import { formatBytes, formatDuration, formatPercent, formatRate } from '../format.js';

const BOX: Box = { width: 320, height: 80, pad: 3 };

export function formatIn(unit: Unit, v: number): string {
  if (unit === 'percent') return formatPercent(v);
  if (unit === 'bytes') return formatBytes(v);
  return formatRate(v);
}

export function chartView(spec: ChartSpec, span: { tMin: number; tMax: number }): HTMLElement {
  const scale = { ...span, yMax: spec.yMax };
  const top = BOX.pad;
  const bottom = BOX.height - BOX.pad;
  const svg = s(
    'svg',
    {
      'class': 'chart',
      'viewBox': `0 0 ${BOX.width} ${BOX.height}`,
      'width': BOX.width,
      'height': BOX.height,
      'role': 'img',
      'aria-label': `${spec.title}: peak ${formatIn(spec.unit, spec.peak)}, scale to ${formatIn(spec.unit, spec.yMax)}`,
      'data-chart': spec.id,
    },
    s('line', { class: 'grid', x1: BOX.pad, x2: BOX.width - BOX.pad, y1: top, y2: top }),
    s('line', { class: 'grid', x1: BOX.pad, x2: BOX.width - BOX.pad, y1: bottom, y2: bottom }),
    spec.lines.map((line) =>
      s(
        'path',
        { 'class': `line ${line.cls}${line.limit ? ' limit' : ''}`, 'd': pathData(scalePoints(line.points, BOX, scale)), 'fill': 'none' },
        s('title', {}, line.label),
      ),
    ),
  );
  return h(
    'figure',
    { class: `chart chart-${spec.id}` },
    h(
      'figcaption',
      {},
      h('strong', {}, spec.title),
      ` peak ${formatIn(spec.unit, spec.peak)}`,
      h('span', { class: 'legend' }, spec.lines.map((l) => h('span', { class: `key ${l.cls}` }, l.label))),
    ),
    h(
      'div',
      { class: 'plot' },
      h('div', { class: 'axis-row' }, h('span', { class: 'axis' }, formatIn(spec.unit, spec.yMax))),
      svg,
      h(
        'div',
        { class: 'axis-row' },
        h('span', { class: 'axis' }, formatIn(spec.unit, 0)),
        h('span', { class: 'axis time' }, `${formatDuration(span.tMax - span.tMin)} from the first sample`),
      ),
    ),
  );
}
