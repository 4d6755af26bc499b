// Apps: list (server-side search and paging), add / modify / detail, disable / enable, delete.

import { api } from '../api.js';
import { h, clear } from '../dom.js';
import { t } from '../i18n.js';
import { canWrite } from '../state.js';
import { field, notice, pager, showErrors, table, clearErrors } from '../widgets.js';

const PER_PAGE = 20;

export function go(page, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined && v !== null));
  const text = query.toString();
  location.hash = `#/${page}${text ? `?${text}` : ''}`;
}

export function searchBar(params, onSearch) {
  const input = h('input', { type: 'search', name: 'search', value: params.search || '', placeholder: t('search'), 'aria-label': t('search') });
  const form = h('form', { class: 'toolbar-search' }, input, h('button', { type: 'submit' }, t('search')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onSearch(input.value.trim());
  });
  return form;
}

export async function renderApps(root, params) {
  const page = Math.max(1, Number(params.page) || 1);
  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, t('apps.title')), searchBar(params, (search) => go('apps', { search })),
      canWrite() ? h('a', { class: 'button primary', href: '#/apps/new', id: 'add-app' }, t('apps.new')) : null),
  );
  const holder = h('div', {}, t('loading'));
  root.append(holder);
  const answer = await api('GET', '/api/app/list', { query: { page, per_page: PER_PAGE, search: params.search } });
  const disabled = await Promise.all(answer.rows.map((app) => api('GET', `/api/app/${encodeURIComponent(app.appName)}/disable`).catch(() => false)));
  const states = Object.fromEntries(answer.rows.map((app, i) => [app.appName, disabled[i]]));
  const columns = [
    { key: 'appName', label: 'f.appName', render: (app) => h('a', { href: `#/apps/${encodeURIComponent(app.appName)}` }, app.appName) },
    { key: 'appURL', label: 'f.appURL', class: 'wrap' },
    { key: 'bootstrapScript', label: 'f.bootstrapScript' },
    { key: 'cpuCount', label: 'f.cpuCount' },
    { key: 'memoryMB', label: 'f.memoryMB' },
    { key: 'state', label: 'state', render: (app) => h('span', { class: states[app.appName] ? 'tag off' : 'tag on' }, t(states[app.appName] ? 'disabled' : 'enabled')) },
  ];
  if (canWrite()) columns.push({ key: 'ops', label: 'operations', render: (app) => appActions(root, app, states[app.appName]) });
  clear(holder).append(table(columns, answer.rows), pager(answer.total, page, PER_PAGE, (p) => go('apps', { ...params, page: p })));
}

function appActions(root, app, isDisabled) {
  const name = encodeURIComponent(app.appName);
  const act = (method, path) => async () => {
    try {
      await api(method, path);
      window.dispatchEvent(new HashChangeEvent('hashchange'));
    } catch (error) {
      notice(root, error.message, 'error');
    }
  };
  return h(
    'span',
    { class: 'actions' },
    h('a', { class: 'button', href: `#/apps/${name}/edit` }, t('modify')),
    isDisabled
      ? h('button', { type: 'button', onclick: act('POST', `/api/app/${name}/enable`) }, t('enable'))
      : h('button', { type: 'button', onclick: act('POST', `/api/app/${name}/disable`) }, t('disable')),
    h('button', { type: 'button', class: 'danger', onclick: () => confirm(t('confirm.deleteApp', { name: app.appName })) && act('DELETE', `/api/app/${name}`)() }, t('delete')),
  );
}

export async function renderAppDetail(root, name) {
  const app = await api('GET', `/api/app/${encodeURIComponent(name)}`);
  const disabled = await api('GET', `/api/app/${encodeURIComponent(name)}/disable`);
  root.append(
    h('div', { class: 'toolbar' }, h('h1', {}, t('apps.detail', { name })),
      canWrite() ? h('a', { class: 'button', href: `#/apps/${encodeURIComponent(name)}/edit` }, t('modify')) : null),
    h('dl', { class: 'card props' }, Object.entries(app).flatMap(([key, value]) => [h('dt', {}, t(`f.${key}`)), h('dd', {}, String(value))]),
      h('dt', {}, t('state')), h('dd', {}, t(disabled ? 'disabled' : 'enabled'))),
  );
}

export async function renderAppForm(root, name) {
  const editing = name !== null;
  const current = editing ? await api('GET', `/api/app/${encodeURIComponent(name)}`) : { cpuCount: 1, memoryMB: 128, appCacheEnable: true, eventTraceSamplingCount: 0, bootstrapScript: 'bin/start.sh' };
  const inputs = {
    appName: h('input', { value: current.appName || '', readonly: editing, required: true }),
    appURL: h('input', { value: current.appURL || '', required: true, placeholder: 'http://host/app.tar.gz' }),
    bootstrapScript: h('input', { value: current.bootstrapScript || '', required: true }),
    cpuCount: h('input', { type: 'number', step: 'any', value: current.cpuCount }),
    memoryMB: h('input', { type: 'number', step: 'any', value: current.memoryMB }),
    eventTraceSamplingCount: h('input', { type: 'number', step: '1', value: current.eventTraceSamplingCount }),
    appCacheEnable: h('input', { type: 'checkbox', checked: current.appCacheEnable }),
  };
  const form = h(
    'form',
    { class: 'card form', id: 'app-form', novalidate: true },
    h('h1', {}, editing ? t('apps.edit', { name }) : t('apps.new')),
    Object.entries(inputs).map(([key, input]) => field(key, input)),
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('save')), h('a', { class: 'button', href: '#/apps' }, t('cancel'))),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const body = {
      appName: inputs.appName.value.trim(),
      appURL: inputs.appURL.value.trim(),
      bootstrapScript: inputs.bootstrapScript.value.trim(),
      cpuCount: numberOrText(inputs.cpuCount.value),
      memoryMB: numberOrText(inputs.memoryMB.value),
      appCacheEnable: inputs.appCacheEnable.checked,
      eventTraceSamplingCount: numberOrText(inputs.eventTraceSamplingCount.value),
    };
    try {
      await api(editing ? 'PUT' : 'POST', '/api/app', { body });
      location.hash = `#/apps/${encodeURIComponent(body.appName)}`;
    } catch (error) {
      showErrors(form, error);
    }
  });
  root.append(form);
}

// An empty or odd number goes to the server as typed: its 400 names the field.
export function numberOrText(value) {
  const text = String(value).trim();
  return text !== '' && Number.isFinite(Number(text)) ? Number(text) : text;
}
