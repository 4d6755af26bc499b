// The audit log: every accepted write (who, role, when, from where, which route, the body).

import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { session } from '../state.js';
import { formatTime, pager, table } from '../widgets.js';
import { go } from './apps.js';
import { filterForm } from './history.js';

const PER_PAGE = 20;

export async function renderAudit(root, params) {
  const current = Math.max(1, Number(params.page) || 1);
  const filters = [
    { name: 'username', label: 'c.username' },
    { name: 'method', label: 'c.method', options: [['POST'], ['PUT'], ['DELETE']] },
    { name: 'path', label: 'c.path2' },
    { name: 'address', label: 'c.address' },
    { name: 'startTime', label: 'c.startTime', time: true },
    { name: 'endTime', label: 'c.endTime', time: true },
  ];
  root.append(h('h1', {}, t('audit.title')));
  if (!session.auditPersistent) root.append(h('p', { class: 'notice info' }, t('audit.memory')));
  root.append(filterForm('audit', params, filters));
  const holder = h('div', {}, t('loading'));
  root.append(holder);
  const query = { per_page: PER_PAGE, page: current };
  for (const f of filters) query[f.name] = params[f.name];
  const answer = await api('GET', '/api/audit', { query });
  clear(holder).append(
    table(
      [
        { key: 'creationTime', label: 'c.time', render: (r) => formatTime(r.creationTime) },
        { key: 'username', label: 'c.username' },
        { key: 'role', label: 'c.role' },
        { key: 'address', label: 'c.address', class: 'mono' },
        { key: 'method', label: 'c.method' },
        { key: 'path', label: 'c.path2', class: 'mono wrap' },
        { key: 'status', label: 'c.status' },
        { key: 'body', label: 'c.body', class: 'mono wrap small' },
      ],
      answer.rows,
    ),
    pager(answer.total, current, PER_PAGE, (p) => go('audit', { ...params, page: p })),
  );
}
