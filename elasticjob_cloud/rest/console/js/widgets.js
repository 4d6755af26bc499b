// Shared pieces of the pages: tables with server-side paging, form fields with their error slot.

import { h, clear } from './dom.js';
import { t } from './i18n.js';

export function notice(container, text, kind = 'info') {
  const box = h('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  container.prepend(box);
  if (kind !== 'error') setTimeout(() => box.remove(), 4000);
  return box;
}

export function table(columns, rows) {
  if (!rows.length) return h('p', { class: 'empty' }, t('empty'));
  return h(
    'table',
    { class: 'grid' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', {}, t(c.label))))),
    h(
      'tbody',
      {},
      rows.map((row) => h('tr', {}, columns.map((c) => h('td', { class: c.class || '' }, c.render ? c.render(row) : row[c.key] ?? '')))),
    ),
  );
}

// A server-paged table: params live in the URL (shareable); onParams rewrites the URL.
export function pager(total, page, perPage, onPage) {
  const pages = Math.max(1, Math.ceil(total / perPage));
  return h(
    'div',
    { class: 'pager' },
    h('span', { class: 'total' }, t('total', { total })),
    h('button', { type: 'button', disabled: page <= 1, onclick: () => onPage(page - 1) }, t('prev')),
    h('span', { class: 'pageno' }, t('page', { page, pages })),
    h('button', { type: 'button', disabled: page >= pages, onclick: () => onPage(page + 1) }, t('next')),
  );
}

export function field(name, input, { label, hint } = {}) {
  input.name = input.name || name;
  input.id = input.id || `f-${name}`;
  const checkbox = input.type === 'checkbox';
  return h(
    'div',
    { class: `field${checkbox ? ' check' : ''}`, 'data-field': name },
    checkbox ? [input, h('label', { for: input.id }, t(label || `f.${name}`))] : [h('label', { for: input.id }, t(label || `f.${name}`)), input],
    hint || null,
    h('div', { class: 'field-error', 'data-error-for': name }),
  );
}

export function clearErrors(form) {
  for (const slot of form.querySelectorAll('.field-error')) clear(slot);
  for (const el of form.querySelectorAll('.invalid')) el.classList.remove('invalid');
  const summary = form.querySelector('.form-error');
  if (summary) clear(summary);
}

// The server's 400 body names the fields: each message goes next to its field, the rest on top.
// A dotted name finds its own slot, else its last part's (jobProperties.x), else its head's
// (dependsOn.0: the list's field).
export function showErrors(form, error) {
  clearErrors(form);
  const leftovers = [];
  for (const [name, messages] of Object.entries(error.errors || {})) {
    const parts = name.split('.');
    const heads = parts.slice(1).map((_, i) => parts.slice(0, parts.length - 1 - i).join('.'));
    const slot = [name, parts.at(-1), ...heads].map((key) => form.querySelector(`[data-error-for="${CSS.escape(key)}"]`)).find(Boolean);
    const text = [].concat(messages).map((m) => (typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text; // dependsOn.0, dependsOn.1
      slot.closest('.field')?.classList.add('invalid');
    } else {
      leftovers.push(`${name}: ${text}`);
    }
  }
  const summary = form.querySelector('.form-error');
  const placed = Object.keys(error.errors || {}).length > leftovers.length;
  if (summary) summary.textContent = leftovers.length ? leftovers.join(' ') : placed ? '' : error.message;
}

export function formatTime(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

// A run without a completion time is running (the original's console showed it as failed).
export function resultText(row) {
  const result = row.result || (row.success ? 'SUCCESS' : row.completeTime ? 'FAILED' : 'RUNNING');
  const key = { SUCCESS: 'result.success', FAILED: 'result.failed', RUNNING: 'result.running' }[result];
  return h('span', { class: `tag result-${result.toLowerCase()}` }, key ? t(key) : result);
}

export function noTrace() {
  return h('p', { class: 'notice info notrace' }, t('notrace'));
}
