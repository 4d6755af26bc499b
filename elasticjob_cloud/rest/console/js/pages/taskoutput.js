// A job's task output: the tail of one task's stdout or stderr, read by the leader through the task's
// Mesos agent (GET /api/operate/sandbox/tail). The task and file are in the URL (a shareable link);
// the refresh button reads the tail again.

import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';

const TAIL_BYTES = 16384;

async function taskIds(jobName, wanted) {
  const [running, recent] = await Promise.all([
    api('GET', '/api/job/tasks/running').catch(() => []),
    api('GET', `/api/job/jobs/${encodeURIComponent(jobName)}/executions`, { query: { limit: 20 } }).catch(() => ({})),
  ]);
  const ids = [wanted, ...running.filter((r) => r.metaInfo?.jobName === jobName).map((r) => r.id), ...(recent.executions || []).map((r) => r.taskId)];
  return [...new Set(ids.filter(Boolean))];
}

// Reading a sandbox needs the leader: a standby answers 307 to another origin, which the browser
// cannot follow with the session. Say so, and link the same page on the leader (the session is
// valid there too).
export async function leaderHint(container, error) {
  let health = {};
  try {
    health = await api('GET', '/health');
  } catch {
    /* the error itself is shown */
  }
  if (health.role === 'standby' && health.leader) {
    const target = `${health.leader.replace(/\/$/, '')}/${location.hash}`;
    container.append(h('p', { class: 'notice info standby-hint' }, t('tail.standby'), ' ', h('a', { href: target }, target)));
  } else {
    container.append(h('p', {}, error.message));
  }
}

function remember(jobName, task, file) {
  const query = new URLSearchParams({ task, file }).toString();
  history.replaceState(null, '', `#/jobs/${encodeURIComponent(jobName)}?${query}`);
}

export function taskOutput(jobName, params = {}) {
  const card = h('section', { class: 'card', id: 'task-output' }, h('h2', {}, t('tail.title')));
  const taskSelect = h('select', { id: 'tail-task', class: 'mono' });
  const fileSelect = h('select', { id: 'tail-file' }, ['stdout', 'stderr'].map((f) => h('option', { value: f }, f)));
  fileSelect.value = params.file === 'stderr' ? 'stderr' : 'stdout';
  const meta = h('p', { class: 'summary mono', id: 'tail-meta' });
  const output = h('pre', { class: 'mono tail', id: 'tail-data' });
  const refresh = h('button', { type: 'button', id: 'tail-refresh' }, t('tail.refresh'));

  async function load() {
    const task = taskSelect.value;
    if (!task) return;
    remember(jobName, task, fileSelect.value);
    clear(meta).append(t('loading'));
    try {
      const answer = await api('GET', '/api/operate/sandbox/tail', { query: { taskId: task, file: fileSelect.value, length: TAIL_BYTES } });
      meta.textContent = t('tail.meta', { shown: answer.size - answer.offset, size: answer.size, host: answer.hostname, path: answer.path });
      output.hidden = false;
      output.textContent = answer.data || t('tail.empty');
      output.scrollTop = output.scrollHeight;
    } catch (error) {
      clear(meta);
      output.hidden = true;
      leaderHint(meta, error);
    }
  }

  taskSelect.addEventListener('change', load);
  fileSelect.addEventListener('change', load);
  refresh.addEventListener('click', load);
  taskIds(jobName, params.task).then((ids) => {
    if (!ids.length) {
      card.append(h('p', { class: 'empty' }, t('tail.none')));
      return;
    }
    for (const id of ids) taskSelect.append(h('option', { value: id }, id));
    card.append(
      h('div', { class: 'toolbar tail-controls' },
        h('label', { for: 'tail-task' }, t('tail.task')), taskSelect,
        h('label', { for: 'tail-file' }, t('tail.file')), fileSelect, refresh),
      meta,
      output,
    );
    load();
  });
  return card;
}
