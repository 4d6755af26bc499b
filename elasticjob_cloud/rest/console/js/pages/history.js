// Execution history and status history: the original's filters, server-side paging, in the URL.

import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { session } from '../state.js';
import { formatTime, noTrace, pager, resultText, table } from '../widgets.js';
import { go } from './apps.js';

const PER_PAGE = 20;

// datetime-local "2026-01-02T03:04" <-> the API's "2026-01-02 03:04:00"
const toApiTime = (value) => (value ? `${value.replace('T', ' ')}${value.length === 16 ? ':00' : ''}` : '');
const toInputTime = (value) => (value ? value.replace(' ', 'T').slice(0, 16) : '');

export function filterForm(page, params, filters) {
  const inputs = {};
  const controls = filters.map(({ name, label, options, time }) => {
    let input;
    if (options) {
      input = h('select', { value: params[name] || '' }, h('option', { value: '' }, t('any')), options.map(([value, key]) => h('option', { value }, key ? t(key) : value)));
    } else if (time) {
      input = h('input', { type: 'datetime-local', value: toInputTime(params[name]) });
    } else {
      input = h('input', { value: params[name] || '' });
    }
    input.name = name;
    input.id = `filter-${name}`;
    inputs[name] = { input, time };
    return h('div', { class: 'filter' }, h('label', { for: input.id }, t(label)), input);
  });
  const form = h('form', { class: 'filters card' }, controls,
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('filter')), h('a', { class: 'button', href: `#/${page}` }, t('reset'))));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const next = {};
    for (const [name, { input, time }] of Object.entries(inputs)) next[name] = time ? toApiTime(input.value) : input.value.trim();
    go(page, next);
  });
  return form;
}

async function renderHistory(root, params, { page, title, path, filters, columns }) {
  const current = Math.max(1, Number(params.page) || 1);
  root.append(h('h1', {}, t(title)));
  if (!session.traceConfigured) root.append(noTrace());
  root.append(filterForm(page, params, filters));
  const holder = h('div', {}, t('loading'));
  root.append(holder);
  const query = { per_page: PER_PAGE, page: current, sort: params.sort, order: params.order };
  for (const f of filters) query[f.name] = params[f.name];
  const answer = await api('GET', path, { query });
  clear(holder).append(table(columns, answer.rows || []), pager(answer.total || 0, current, PER_PAGE, (p) => go(page, { ...params, page: p })));
}

const jobLink = (r) => h('a', { href: `#/jobs/${encodeURIComponent(r.jobName)}` }, r.jobName);

export function renderExecutions(root, params) {
  return renderHistory(root, params, {
    page: 'executions',
    title: 'nav.executions',
    path: '/api/job/events/executions',
    filters: [
      { name: 'jobName', label: 'f.jobName' },
      { name: 'taskId', label: 'c.taskId' },
      { name: 'ip', label: 'c.ip' },
      { name: 'isSuccess', label: 'c.isSuccess', options: [['1', 'result.success'], ['0', 'result.failed']] },
      { name: 'startTime', label: 'c.startTime', time: true },
      { name: 'endTime', label: 'c.endTime', time: true },
    ],
    columns: [
      { key: 'jobName', label: 'f.jobName', render: jobLink },
      { key: 'shardingItem', label: 'c.shardingItem' },
      { key: 'hostname', label: 'c.hostname' },
      { key: 'ip', label: 'c.ip' },
      { key: 'source', label: 'c.source' },
      { key: 'startTime', label: 'c.startTime', render: (r) => formatTime(r.startTime) },
      { key: 'completeTime', label: 'c.completeTime', render: (r) => formatTime(r.completeTime) },
      { key: 'success', label: 'c.success', render: resultText },
      { key: 'failureCause', label: 'c.failureCause', class: 'wrap', render: (r) => r.failureCause?.plainText || '' },
    ],
  });
}

export function renderTraces(root, params) {
  return renderHistory(root, params, {
    page: 'traces',
    title: 'nav.traces',
    path: '/api/job/events/statusTraces',
    filters: [
      { name: 'jobName', label: 'f.jobName' },
      { name: 'taskId', label: 'c.taskId' },
      { name: 'slaveId', label: 'c.slaveId' },
      { name: 'source', label: 'c.source', options: [['CLOUD_SCHEDULER'], ['CLOUD_EXECUTOR'], ['LITE_EXECUTOR']] },
      { name: 'executionType', label: 'c.executionType', options: [['READY'], ['FAILOVER']] },
      { name: 'state', label: 'c.state', options: ['TASK_STAGING', 'TASK_RUNNING', 'TASK_FINISHED', 'TASK_KILLED', 'TASK_LOST', 'TASK_FAILED', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE', 'TASK_UNREACHABLE', 'TASK_UNKNOWN'].map((s) => [s]) },
      { name: 'startTime', label: 'c.startTime', time: true },
      { name: 'endTime', label: 'c.endTime', time: true },
    ],
    columns: [
      { key: 'jobName', label: 'f.jobName', render: jobLink },
      { key: 'taskId', label: 'c.taskId', class: 'mono wrap' },
      { key: 'slaveId', label: 'c.slaveId', class: 'mono' },
      { key: 'source', label: 'c.source' },
      { key: 'executionType', label: 'c.executionType' },
      { key: 'shardingItems', label: 'c.shardingItems' },
      { key: 'state', label: 'c.state' },
      { key: 'message', label: 'c.message', class: 'wrap' },
      { key: 'creationTime', label: 'c.creationTime', render: (r) => formatTime(r.creationTime) },
    ],
  });
}
