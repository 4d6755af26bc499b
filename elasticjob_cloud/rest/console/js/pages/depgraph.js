// The dependency graph of all jobs (issue #17), drawn as SVG in layers: a job sits one layer to the
// right of its furthest upstream. Only jobs with an edge are drawn (thousands of jobs without
// dependencies would be noise); nothing is shown when there is no edge.

import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

const SVG = 'http://www.w3.org/2000/svg';
const NODE_W = 150;
const NODE_H = 26;
const GAP_X = 60;
const GAP_Y = 14;

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  el.append(...children);
  return el;
}

function layers(edges) {
  const ups = new Map();
  for (const { from, to } of edges) {
    if (!ups.has(from)) ups.set(from, []);
    if (!ups.has(to)) ups.set(to, []);
    ups.get(to).push(from);
  }
  const depth = new Map();
  const depthOf = (name, seen = new Set()) => {
    if (depth.has(name)) return depth.get(name);
    if (seen.has(name)) return 0; // a cycle cannot be stored; guard anyway
    seen.add(name);
    const value = Math.max(-1, ...ups.get(name).map((up) => depthOf(up, seen))) + 1;
    depth.set(name, value);
    return value;
  };
  for (const name of [...ups.keys()].sort()) depthOf(name);
  return depth;
}

export function dependencyGraph() {
  const section = h('section', { class: 'card', id: 'dependency-graph' });
  api('GET', '/api/job/dependencies/graph')
    .then(({ edges }) => {
      if (!edges.length) return section.remove();
      const depth = layers(edges);
      const rows = new Map();
      const place = new Map();
      for (const name of [...depth.keys()].sort()) {
        const column = depth.get(name);
        const row = rows.get(column) || 0;
        rows.set(column, row + 1);
        place.set(name, { x: 10 + column * (NODE_W + GAP_X), y: 10 + row * (NODE_H + GAP_Y) });
      }
      const width = 20 + (Math.max(...rows.keys()) + 1) * (NODE_W + GAP_X) - GAP_X;
      const height = 20 + Math.max(...rows.values()) * (NODE_H + GAP_Y) - GAP_Y;
      const lines = edges.map(({ from, to }) => {
        const a = place.get(from);
        const b = place.get(to);
        return svg('line', { x1: a.x + NODE_W, y1: a.y + NODE_H / 2, x2: b.x, y2: b.y + NODE_H / 2, class: 'edge', 'marker-end': 'url(#arrow)' });
      });
      const nodes = [...place.entries()].map(([name, p]) => {
        const link = svg('a', { href: `#/jobs/${encodeURIComponent(name)}` },
          svg('rect', { x: p.x, y: p.y, width: NODE_W, height: NODE_H, rx: 4, class: 'node' }),
          svg('text', { x: p.x + 8, y: p.y + NODE_H / 2 + 4 }, name.length > 20 ? `${name.slice(0, 19)}…` : name));
        return link;
      });
      const arrow = svg('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto' },
        svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow' }));
      section.append(
        h('h2', {}, t('dep.graph')),
        svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'dependency-graph', role: 'img' }, svg('defs', {}, arrow), ...lines, ...nodes),
      );
    })
    .catch((error) => section.append(h('p', {}, error.message)));
  return section;
}
