// A job's run policies (issue #17; semantics in core/policies.py): the job form's group of fields and
// the job page's list of the policies that are set.
//
// Every field is optional and empty means "not set" (the default). On an update only the fields the
// operator changed are sent: a changed field with a value sends it, a cleared one sends null (the
// server then removes the stored policy), an untouched one is left out, so the stored value stays
// even if someone else changed it meanwhile.
//
// dependsOn is a comma list of job names, with suggestions from the server-side job search as the
// last name is typed: with 10,000 jobs a list of every job cannot be offered (the jobs page reads one
// page at a time for the same reason), a comma list is what curl and the CLI take, and the server
// answers an unknown name (404) or a cycle (409) next to the field.

import { api } from '../api.js';
import { h, clear, debounce } from '../dom.js';
import { t } from '../i18n.js';
import { field } from '../widgets.js';
import { numberOrText } from './apps.js';

export const POLICY_KEYS = ['priority', 'startingDeadlineSeconds', 'timeLimitSeconds', 'concurrencyPolicy', 'retry', 'dependsOn', 'dependencyPolicy'];
const CONCURRENCY = ['FORBID', 'REPLACE', 'ALLOW'];
const DEPENDENCY = ['ALL_SUCCEEDED', 'ALL_DONE'];
const RETRY = ['maxRetries', 'initialBackoffSeconds', 'maxBackoffSeconds'];
// What the server stores as the cron of a job registered with dependsOn and no cron
// (core/dependencies.py NEVER_CRON): the form shows such a cron as empty.
export const NEVER_CRON = '0 0 0 1 1 ? 2099';

const text = (value) => (value === undefined || value === null ? '' : String(value));
const names = (value) => value.split(',').map((name) => name.trim()).filter(Boolean);

function choice(options, value, fallback) {
  return h(
    'select',
    { value: text(value) },
    h('option', { value: '' }, t('policy.unset', { value: fallback })),
    options.map((o) => h('option', { value: o }, t(`policy.${o}`))),
  );
}

// The group of fields: `element` for the form, `dependsOn()` the names typed now, `changes(editing)`
// the policy keys of the request body (see the top of this file).
export function policyGroup(current, selfName) {
  const retry = current.retry || {};
  const number = (value, attrs = {}) => h('input', { type: 'number', step: '1', value: text(value), ...attrs });
  const inputs = {
    priority: number(current.priority, { placeholder: '0' }),
    startingDeadlineSeconds: number(current.startingDeadlineSeconds, { min: 1 }),
    timeLimitSeconds: number(current.timeLimitSeconds, { min: 1 }),
    concurrencyPolicy: choice(CONCURRENCY, current.concurrencyPolicy, 'FORBID'),
    'retry.maxRetries': number(retry.maxRetries, { min: 1 }),
    'retry.initialBackoffSeconds': number(retry.initialBackoffSeconds, { step: 'any', min: 0, placeholder: '10' }),
    'retry.maxBackoffSeconds': number(retry.maxBackoffSeconds, { step: 'any', min: 0, placeholder: '360' }),
    dependsOn: h('input', { value: (current.dependsOn || []).join(', '), list: 'upstream-names', autocomplete: 'off', placeholder: 'job_a, job_b' }),
    dependencyPolicy: choice(DEPENDENCY, current.dependencyPolicy, 'ALL_SUCCEEDED'),
  };
  const suggestions = h('datalist', { id: 'upstream-names' });
  const hint = (key) => h('small', { class: 'hint' }, t(`hint.${key}`));
  const element = h(
    'fieldset',
    { class: 'policies', id: 'run-policies' },
    h('legend', {}, t('policy.title')),
    h('p', { class: 'hint' }, t('policy.intro')),
    suggestions,
    h('div', { class: 'columns' }, Object.entries(inputs).map(([key, input]) => field(key, input, { hint: hint(key) }))),
  );

  let asked = 0; // only the answer to the latest search is offered
  inputs.dependsOn.addEventListener('input', debounce(async () => {
    const typed = inputs.dependsOn.value;
    const cut = typed.lastIndexOf(',');
    const prefix = cut < 0 ? '' : `${typed.slice(0, cut + 1)} `;
    const search = typed.slice(cut + 1).trim();
    const mine = ++asked;
    const listed = new Set(names(typed));
    const answer = search ? await api('GET', '/api/job/jobs', { query: { page: 1, per_page: 10, search } }).catch(() => ({ rows: [] })) : { rows: [] };
    if (mine !== asked) return;
    const offered = answer.rows.map((job) => job.jobName).filter((n) => n !== selfName && !listed.has(n));
    clear(suggestions).append(...offered.map((n) => h('option', { value: `${prefix}${n}` })));
  }, 200));

  // Per policy: its canonical text now ('' = not set) and its wire value (null = not set).
  const raw = (key) => inputs[key].value.trim();
  const read = {
    priority: () => [raw('priority'), numberOrText(raw('priority'))],
    startingDeadlineSeconds: () => [raw('startingDeadlineSeconds'), numberOrText(raw('startingDeadlineSeconds'))],
    timeLimitSeconds: () => [raw('timeLimitSeconds'), numberOrText(raw('timeLimitSeconds'))],
    concurrencyPolicy: () => [raw('concurrencyPolicy'), raw('concurrencyPolicy')],
    dependencyPolicy: () => [raw('dependencyPolicy'), raw('dependencyPolicy')],
    dependsOn: () => [names(raw('dependsOn')).join(','), names(raw('dependsOn'))],
    retry: () => {
      const given = RETRY.filter((key) => raw(`retry.${key}`) !== '');
      // fields left empty take the server's defaults; an empty maxRetries is the server's 400
      const value = Object.fromEntries(given.map((key) => [key, numberOrText(raw(`retry.${key}`))]));
      return [given.length ? RETRY.map((key) => raw(`retry.${key}`)).join('|') : '', value];
    },
  };
  const initial = Object.fromEntries(POLICY_KEYS.map((key) => [key, read[key]()[0]]));

  function changes(editing) {
    const body = {};
    for (const key of POLICY_KEYS) {
      const [now, value] = read[key]();
      if (editing ? now === initial[key] : now === '') continue;
      body[key] = now === '' ? null : value;
    }
    return body;
  }

  return { element, inputs, changes, dependsOn: () => read.dependsOn()[1] };
}

function shown(key, value) {
  if (key === 'retry') {
    return t('policy.retryValue', { n: value.maxRetries, initial: value.initialBackoffSeconds, max: value.maxBackoffSeconds });
  }
  if (key === 'dependsOn') {
    return value.flatMap((name, i) => [i ? ', ' : '', h('a', { href: `#/jobs/${encodeURIComponent(name)}` }, name)]);
  }
  if (key === 'concurrencyPolicy' || key === 'dependencyPolicy') return t(`policy.${value}`);
  return String(value);
}

// The job page: the policies the job has (the server returns a policy key only when it is set).
export function policyDetails(job) {
  const set = POLICY_KEYS.filter((key) => job[key] !== undefined && job[key] !== null);
  if (!set.length) return null;
  return h(
    'div',
    { id: 'policies' },
    h('h2', {}, t('policy.title')),
    h('dl', { class: 'props' }, set.flatMap((key) => [h('dt', {}, t(`f.${key}`)), h('dd', { 'data-policy': key }, shown(key, job[key]))])),
  );
}
