// Jobs: list with server-side search and paging (10,000 jobs never reach the browser at once).

import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { canWrite } from '../state.js';
import { notice, pager, table } from '../widgets.js';
import { go, searchBar } from './apps.js';
import { dependencyGraph } from './depgraph.js';

const PER_PAGE = 25;

export async function renderJobs(root, params) {
  const page = Math.max(1, Number(params.page) || 1);
  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, t('jobs.title')), searchBar(params, (search) => go('jobs', { search })),
      canWrite() ? h('a', { class: 'button primary', href: '#/jobs/new', id: 'add-job' }, t('jobs.new')) : null),
  );
  const holder = h('div', {}, t('loading'));
  root.append(holder);
  const answer = await api('GET', '/api/job/jobs', { query: { page, per_page: PER_PAGE, search: params.search } });
  const disabled = await Promise.all(answer.rows.map((job) => api('GET', `/api/job/${encodeURIComponent(job.jobName)}/disable`).catch(() => false)));
  const states = Object.fromEntries(answer.rows.map((job, i) => [job.jobName, disabled[i]]));
  const columns = [
    { key: 'jobName', label: 'f.jobName', render: (job) => h('a', { href: `#/jobs/${encodeURIComponent(job.jobName)}` }, job.jobName) },
    { key: 'appName', label: 'f.appName', render: (job) => h('a', { href: `#/apps/${encodeURIComponent(job.appName)}` }, job.appName) },
    { key: 'jobType', label: 'f.jobType' },
    { key: 'jobExecutionType', label: 'f.jobExecutionType' },
    { key: 'jobClass', label: 'f.jobClass', class: 'wrap' },
    { key: 'cron', label: 'f.cron', class: 'mono' },
    { key: 'shardingTotalCount', label: 'f.shardingTotalCount' },
    { key: 'state', label: 'state', render: (job) => h('span', { class: states[job.jobName] ? 'tag off' : 'tag on' }, t(states[job.jobName] ? 'disabled' : 'enabled')) },
  ];
  if (canWrite()) columns.push({ key: 'ops', label: 'operations', render: (job) => jobActions(root, job, states[job.jobName]) });
  clear(holder).append(table(columns, answer.rows), pager(answer.total, page, PER_PAGE, (p) => go('jobs', { ...params, page: p })), dependencyGraph());
}

export function jobActions(root, job, isDisabled, after = () => window.dispatchEvent(new HashChangeEvent('hashchange'))) {
  const name = encodeURIComponent(job.jobName);
  const act = (method, path, body) => async () => {
    try {
      await api(method, path, { body });
      notice(root, t('done'));
      after();
    } catch (error) {
      notice(root, error.message, 'error');
    }
  };
  return h(
    'span',
    { class: 'actions' },
    h('a', { class: 'button', href: `#/jobs/${name}/edit` }, t('modify')),
    job.jobExecutionType === 'TRANSIENT' ? h('button', { type: 'button', onclick: act('POST', '/api/job/trigger', job.jobName) }, t('trigger')) : null,
    isDisabled
      ? h('button', { type: 'button', onclick: act('POST', `/api/job/${name}/enable`) }, t('enable'))
      : h('button', { type: 'button', onclick: act('POST', `/api/job/${name}/disable`) }, t('disable')),
    h('button', { type: 'button', class: 'danger', onclick: () => confirm(t('confirm.delete', { name: job.jobName })) && act('DELETE', `/api/job/${name}/deregister`)() }, t('delete')),
  );
}
