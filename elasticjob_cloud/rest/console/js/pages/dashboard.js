// The dashboard: the original's statistics as charts (Chart.js, installed from npm).

import { api } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { session } from '../state.js';
import { noTrace } from '../widgets.js';

const GREEN = '#3c9d5d';
const RED = '#d9534f';
const PALETTE = ['#3b7dd8', '#f0ad4e', '#5bc0de', '#3c9d5d', '#9b59b6'];
const charts = [];

function chartCard(id, title) {
  const canvas = h('canvas', { id, role: 'img', 'aria-label': title });
  const card = h('section', { class: 'card chart' }, h('h2', {}, title), h('div', { class: 'canvas-box' }, canvas));
  return { card, canvas };
}

function draw(canvas, config) {
  config.options = { responsive: true, maintainAspectRatio: false, animation: false, ...(config.options || {}) };
  charts.push(new window.Chart(canvas, config));
  canvas.dataset.rendered = 'true';
}

function pie(canvas, labels, values, colors = PALETTE) {
  if (!values.some((v) => v > 0)) {
    canvas.closest('.canvas-box').replaceWith(h('p', { class: 'empty' }, t('dash.nodata')));
    return;
  }
  draw(canvas, { type: 'doughnut', data: { labels, datasets: [{ data: values, backgroundColor: colors }] } });
}

function line(canvas, labels, series) {
  if (!labels.length) {
    canvas.closest('.canvas-box').replaceWith(h('p', { class: 'empty' }, t('dash.nodata')));
    return;
  }
  draw(canvas, {
    type: 'line',
    data: { labels, datasets: series.map((s, i) => ({ label: s.label, data: s.data, borderColor: s.color || PALETTE[i], backgroundColor: s.color || PALETTE[i], tension: 0.2, pointRadius: 0 })) },
    options: { scales: { y: { beginAtZero: true } } },
  });
}

const when = (row) => String(row.statisticsTime || '').replace('T', ' ').slice(0, 16);

export async function renderDashboard(root) {
  while (charts.length) charts.pop().destroy();
  root.append(h('h1', {}, t('nav.dashboard')));
  if (!session.traceConfigured) root.append(noTrace());
  const grid = h('div', { class: 'charts' });
  root.append(grid);
  const cards = {};
  const add = (id, title) => {
    cards[id] = chartCard(id, title);
    grid.append(cards[id].card);
    return cards[id].canvas;
  };
  const jobType = add('chart-job-type', t('dash.jobType'));
  const executionType = add('chart-execution-type', t('dash.executionType'));
  const [types, executionTypes] = await Promise.all([
    api('GET', '/api/job/statistics/jobs/type'),
    api('GET', '/api/job/statistics/jobs/executionType'),
  ]);
  pie(jobType, ['SIMPLE', 'DATAFLOW', 'SCRIPT'], [types.simpleJobCount, types.dataflowJobCount, types.scriptJobCount]);
  pie(executionType, ['TRANSIENT', 'DAEMON'], [executionTypes.transientJobCount, executionTypes.daemonJobCount]);
  if (!session.traceConfigured) return;
  const periods = ['lastMinute', 'lastHour', 'lastWeek'];
  const periodCanvases = periods.map((p) => add(`chart-results-${p}`, `${t('dash.results')}: ${t(`dash.${p}`)}`));
  const last24 = add('chart-results-24h', t('dash.last24h'));
  const running = add('chart-running', t('dash.running'));
  const register = add('chart-register', t('dash.register'));
  const get = (path, query) => api('GET', path, { query }).catch(() => null);
  const [results, day, jobsRunning, tasksRunning, registered] = await Promise.all([
    Promise.all(periods.map((p) => get(`/api/job/statistics/tasks/results/${p}`))),
    get('/api/job/statistics/tasks/results', { since: 'last24hours' }),
    get('/api/job/statistics/jobs/running', { since: 'lastWeek' }),
    get('/api/job/statistics/tasks/running', { since: 'lastWeek' }),
    get('/api/job/statistics/jobs/register'),
  ]);
  const labels = [t('dash.successCount'), t('dash.failedCount')];
  results.forEach((r, i) => pie(periodCanvases[i], labels, r ? [r.successCount, r.failedCount] : [], [GREEN, RED]));
  const rows = day || [];
  line(last24, rows.map(when), [
    { label: t('dash.successCount'), data: rows.map((r) => r.successCount), color: GREEN },
    { label: t('dash.failedCount'), data: rows.map((r) => r.failedCount), color: RED },
  ]);
  const jobsRows = jobsRunning || [];
  const tasksByTime = new Map((tasksRunning || []).map((r) => [when(r), r.runningCount]));
  line(running, jobsRows.map(when), [
    { label: t('dash.jobs'), data: jobsRows.map((r) => r.runningCount) },
    { label: t('dash.tasks'), data: jobsRows.map((r) => tasksByTime.get(when(r)) ?? 0) },
  ]);
  const reg = registered || [];
  line(register, reg.map(when), [{ label: t('dash.register'), data: reg.map((r) => r.registeredCount) }]);
}
