// Health: this instance's role, the leader, ZooKeeper and Mesos (GET /health).

import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';

function show(value) {
  if (value === null || value === undefined) return '—';
  if (typeof value !== 'object') return String(value);
  return h('dl', { class: 'props nested' }, Object.entries(value).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, show(v))]));
}

export async function renderHealth(root) {
  const health = await api('GET', '/health');
  const known = ['role', 'leader', 'zookeeper', 'mesos'];
  root.append(
    h('h1', {}, t('nav.health')),
    h('dl', { class: 'card props', id: 'health' },
      known.flatMap((key) => [h('dt', {}, t(`health.${key}`)), h('dd', { 'data-key': key }, show(health[key]))]),
      Object.entries(health).filter(([k]) => !known.includes(k)).flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, show(v))])),
  );
}
