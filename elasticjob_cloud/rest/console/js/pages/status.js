// Job status: running, ready and failover tasks (tabs; the tab is in the URL).

import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { table } from '../widgets.js';
import { go } from './apps.js';

const TABS = {
  running: {
    path: '/api/job/tasks/running',
    columns: [
      { key: 'id', label: 'c.id', class: 'mono wrap' },
      { key: 'jobName', label: 'f.jobName', render: (r) => jobLink(r.metaInfo.jobName) },
      { key: 'shardingItems', label: 'c.shardingItems', render: (r) => r.metaInfo.shardingItems.join(', ') },
      { key: 'type', label: 'c.type' },
      { key: 'slaveId', label: 'c.slaveId', class: 'mono' },
    ],
  },
  ready: {
    path: '/api/job/tasks/ready',
    columns: [
      { key: 'jobName', label: 'f.jobName', render: (r) => jobLink(r.jobName) },
      { key: 'times', label: 'c.times' },
      // why a run waits when no agent can ever hold it (issue #12); empty otherwise
      { key: 'unschedulable', label: 'c.unschedulable', class: 'wrap unschedulable' },
    ],
  },
  failover: {
    path: '/api/job/tasks/failover',
    columns: [
      { key: 'jobName', label: 'f.jobName', render: (r) => jobLink(r.taskInfo.jobName) },
      { key: 'shardingItems', label: 'c.shardingItems', render: (r) => r.taskInfo.shardingItems.join(', ') },
      { key: 'originalTaskId', label: 'c.originalTaskId', class: 'mono wrap' },
    ],
  },
};

function jobLink(name) {
  return h('a', { href: `#/jobs/${encodeURIComponent(name)}` }, name);
}

export async function renderStatus(root, params) {
  const tab = TABS[params.tab] ? params.tab : 'running';
  root.append(
    h('h1', {}, t('nav.status')),
    h('div', { class: 'tabs', role: 'tablist' }, Object.keys(TABS).map((name) =>
      h('button', { type: 'button', role: 'tab', class: name === tab ? 'active' : '', 'aria-selected': String(name === tab), onclick: () => go('status', { tab: name }) }, t(`status.${name}`)))),
  );
  const rows = await api('GET', TABS[tab].path);
  root.append(h('div', { id: `status-${tab}` }, table(TABS[tab].columns, rows)));
}
