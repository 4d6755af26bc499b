// One job: its configuration and the run policies it has, state and actions, next fires, recent
// runs (durations, results), the sandboxes of its app's executors, the output of its tasks, and the
// jobs it depends on or that depend on it.

import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { canWrite, session } from '../state.js';
import { formatTime, noTrace, resultText, table } from '../widgets.js';
import { jobActions } from './jobs.js';
import { leaderHint, taskOutput } from './taskoutput.js';
import { NEVER_CRON, POLICY_KEYS, policyDetails } from './runpolicies.js';

export async function renderJobPage(root, name, params = {}) {
  const path = encodeURIComponent(name);
  const [job, disabled] = await Promise.all([api('GET', `/api/job/jobs/${path}`), api('GET', `/api/job/${path}/disable`)]);
  const runs = h('section', { class: 'card', id: 'recent-runs' }, h('h2', {}, t('job.recentRuns')), h('p', {}, t('loading')));
  const fires = h('section', { class: 'card', id: 'next-fires' });
  const sandbox = h('section', { class: 'card', id: 'sandbox' }, h('h2', {}, t('job.sandbox', { name: job.appName })));
  const dependencies = h('section', { class: 'card', id: 'dependencies' });
  const config = Object.entries(job).filter(([k, v]) => v !== null && v !== '' && typeof v !== 'object' && !POLICY_KEYS.includes(k));
  const cronText = (value) => (value === NEVER_CRON && job.dependsOn?.length ? t('cron.afterUpstreams') : String(value));
  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, t('job.title', { name })),
      h('span', { class: disabled ? 'tag off' : 'tag on' }, t(disabled ? 'disabled' : 'enabled')),
      canWrite() ? jobActions(root, job, disabled) : null),
    h('div', { class: 'two' },
      h('section', { class: 'card' }, h('h2', {}, t('job.config')),
        h('dl', { class: 'props' }, config.flatMap(([key, value]) => [h('dt', {}, t(`f.${key}`)), h('dd', { class: key === 'cron' ? 'mono' : '' }, key === 'cron' ? cronText(value) : String(value))])),
        policyDetails(job)),
      h('div', {}, fires, sandbox)),
    taskOutput(name, params),
    dependencies,
    runs,
  );
  api('GET', `/api/job/${path}/dependencies`)
    .then((answer) => {
      const edges = [
        ...answer.upstreams.map((e) => ({ ...e, direction: t('dep.upstream') })),
        ...answer.downstreams.map((e) => ({ ...e, direction: t('dep.downstream') })),
      ];
      if (!edges.length) return dependencies.remove();
      const link = (e) => h('a', { href: `#/jobs/${encodeURIComponent(e.jobName)}` }, e.jobName);
      dependencies.append(
        h('h2', {}, answer.upstreams.length ? t('dep.title', { policy: answer.dependencyPolicy }) : t('dep.plain')),
        table(
          [
            { key: 'direction', label: 'dep.direction' },
            { key: 'jobName', label: 'f.jobName', render: link },
            { key: 'state', label: 'dep.state', render: (e) => t(`dep.${e.state}`) },
            { key: 'at', label: 'dep.at', render: (e) => (e.at == null ? '' : formatTime(e.at * 1000)) },
          ],
          edges,
        ),
      );
    })
    .catch((error) => dependencies.append(h('p', {}, error.message)));
  if (cronText(job.cron) !== job.cron) {
    fires.append(h('h2', {}, t('cron.preview')), h('p', {}, t('cron.afterUpstreams')));
  } else {
    api('GET', `/api/job/jobs/${path}/next-fire-times`, { query: { count: 5 } })
      .then((answer) => fires.append(h('h2', {}, t('job.nextFires', { zone: answer.timeZone })), h('ul', { class: 'cron-preview' }, answer.next.map((when) => h('li', {}, when)))))
      .catch((error) => fires.append(h('p', {}, error.message)));
  }
  api('GET', '/api/operate/sandbox', { query: { appName: job.appName } })
    .then((rows) => sandbox.append(rows.length ? table([{ key: 'hostname', label: 'c.hostname' }, { key: 'path', label: 'c.path', class: 'mono wrap' }], rows) : h('p', { class: 'empty' }, t('job.nosandbox'))))
    .catch((error) => leaderHint(sandbox, error));
  try {
    const answer = await api('GET', `/api/job/jobs/${path}/executions`, { query: { limit: 20 } });
    clear(runs).append(h('h2', {}, t('job.recentRuns')));
    const d = answer.duration || {};
    if (d.count) runs.append(h('p', { class: 'summary' }, t('job.p50', { p50: d.p50Ms, p95: d.p95Ms, count: d.count })));
    runs.append(
      table(
        [
          { key: 'shardingItem', label: 'c.shardingItem' },
          { key: 'startTime', label: 'c.startTime', render: (r) => formatTime(r.startTime) },
          { key: 'durationMs', label: 'job.duration', render: (r) => (r.durationMs == null ? '' : `${r.durationMs} ms`) },
          { key: 'success', label: 'c.success', render: resultText },
          { key: 'hostname', label: 'c.hostname' },
          { key: 'failureCause', label: 'c.failureCause', class: 'wrap', render: (r) => r.failureCause?.plainText || '' },
        ],
        answer.executions || [],
      ),
    );
  } catch (error) {
    clear(runs).append(h('h2', {}, t('job.recentRuns')), error.status === 503 || error.status === 404 || !session.traceConfigured ? noTrace() : h('p', {}, error.message));
  }
}
