// Boot: who am I (or the login form), then a hash router: #/page/arg?filters — shareable links.

import { api, ApiError, setCsrfToken } from './api.js';
import { h, clear } from './dom.js';
import { lang, setLang, t, translateStatic } from './i18n.js';
import { session } from './state.js';
import { renderApps, renderAppForm, renderAppDetail } from './pages/apps.js';
import { renderJobs } from './pages/jobs.js';
import { renderJobForm } from './pages/jobform.js';
import { renderJobPage } from './pages/jobpage.js';
import { renderStatus } from './pages/status.js';
import { renderDashboard } from './pages/dashboard.js';
import { renderExecutions, renderTraces } from './pages/history.js';
import { renderAudit } from './pages/audit.js';
import { renderHealth } from './pages/health.js';

const view = document.getElementById('view');

export function currentRoute() {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'dashboard', args: parts.slice(1), params: Object.fromEntries(new URLSearchParams(query)) };
}

function route() {
  const { page, args, params } = currentRoute();
  for (const link of document.querySelectorAll('#nav a')) link.classList.toggle('active', link.dataset.route === page);
  clear(view);
  const root = h('section', { class: `page page-${page}` });
  view.append(root);
  const pages = {
    apps: () => (args[0] === 'new' ? renderAppForm(root, null) : args[1] === 'edit' ? renderAppForm(root, args[0]) : args[0] ? renderAppDetail(root, args[0]) : renderApps(root, params)),
    jobs: () => (args[0] === 'new' ? renderJobForm(root, null) : args[1] === 'edit' ? renderJobForm(root, args[0]) : args[0] ? renderJobPage(root, args[0], params) : renderJobs(root, params)),
    status: () => renderStatus(root, params),
    dashboard: () => renderDashboard(root),
    executions: () => renderExecutions(root, params),
    traces: () => renderTraces(root, params),
    audit: () => renderAudit(root, params),
    health: () => renderHealth(root),
  };
  const render = pages[page] || pages.dashboard;
  Promise.resolve(render()).catch((error) => {
    if (error instanceof ApiError && error.status === 401) return;
    root.append(h('div', { class: 'notice error', role: 'alert' }, error.message));
  });
  refreshCounts();
}

async function refreshCounts() {
  try {
    const [apps, jobs] = await Promise.all([
      api('GET', '/api/app/list', { query: { page: 1, per_page: 1 } }),
      api('GET', '/api/job/jobs', { query: { page: 1, per_page: 1 } }),
    ]);
    document.getElementById('app-count').textContent = apps.total;
    document.getElementById('job-count').textContent = jobs.total;
  } catch {
    /* the badges are a convenience */
  }
}

function showLogin(failed = false) {
  document.getElementById('nav').hidden = true;
  document.getElementById('logout').hidden = true;
  document.getElementById('who').textContent = '';
  clear(view);
  const username = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const message = h('div', { class: 'form-error', role: 'alert' }, failed ? t('login.failed') : '');
  const form = h(
    'form',
    { class: 'card login', id: 'login-form' },
    h('h1', {}, t('login.title')),
    h('label', { for: 'login-username' }, t('login.username')),
    Object.assign(username, { id: 'login-username' }),
    h('label', { for: 'login-password' }, t('login.password')),
    Object.assign(password, { id: 'login-password' }),
    message,
    h('button', { type: 'submit', class: 'primary' }, t('login.submit')),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const answer = await api('POST', '/api/auth/session', { body: { username: username.value, password: password.value } });
      signedIn(answer);
    } catch (error) {
      message.textContent = error.status === 401 ? t('login.failed') : error.message;
    }
  });
  view.append(form);
  username.focus();
}

async function signedIn(answer) {
  Object.assign(session, { username: answer.username, role: answer.role, authEnabled: answer.authEnabled });
  setCsrfToken(answer.csrfToken);
  try {
    const info = await api('GET', '/api/console/info');
    session.traceConfigured = Boolean(info.traceConfigured);
    session.auditPersistent = Boolean(info.auditPersistent);
  } catch {
    session.traceConfigured = false;
  }
  document.body.classList.toggle('viewer', session.role !== 'admin');
  document.getElementById('nav').hidden = false;
  document.getElementById('logout').hidden = !session.authEnabled;
  showWho();
  route();
}

function showWho() {
  document.getElementById('who').textContent = session.authEnabled
    ? `${session.username} · ${t(`role.${session.role}`)}`
    : t('auth.off');
}

async function boot() {
  const select = document.getElementById('lang');
  select.value = lang();
  setLang(lang());
  translateStatic();
  select.addEventListener('change', () => {
    setLang(select.value);
    translateStatic();
    if (session.username) {
      showWho();
      route();
    } else {
      showLogin();
    }
  });
  document.getElementById('logout').addEventListener('click', async () => {
    try {
      await api('DELETE', '/api/auth/session');
    } finally {
      session.username = '';
      setCsrfToken('');
      showLogin();
    }
  });
  window.addEventListener('ejc:unauthorized', () => showLogin());
  window.addEventListener('hashchange', () => session.username && route());
  try {
    signedIn(await api('GET', '/api/auth/session'));
  } catch {
    showLogin();
  }
}

boot();
