// Add / modify a job. The form follows jobType (SIMPLE: jobClass; DATAFLOW: jobClass and
// streamingProcess; SCRIPT: scriptCommandLine); while the cron is typed, its next fires are shown in
// the job's time zone (/api/cron/preview). The run policies are a group of their own
// (runpolicies.js); with dependsOn the cron may stay empty. The server's 400/404/409 messages appear
// next to their fields.

import { api } from '../api.js';
import { h, clear, debounce } from '../dom.js';
import { t } from '../i18n.js';
import { clearErrors, field, showErrors } from '../widgets.js';
import { numberOrText } from './apps.js';
import { NEVER_CRON, policyGroup } from './runpolicies.js';

const DEFAULTS = {
  jobType: 'SIMPLE', jobExecutionType: 'TRANSIENT', cron: '0/30 * * * * ?', shardingTotalCount: 1,
  cpuCount: 0.1, memoryMB: 64, failover: false, misfire: true, streamingProcess: false,
  jobProperties: { job_exception_handler: '', executor_service_handler: '' },
};
const BY_TYPE = { SIMPLE: ['jobClass'], DATAFLOW: ['jobClass', 'streamingProcess'], SCRIPT: ['scriptCommandLine'] };

function select(options, value) {
  return h('select', { value }, options.map((o) => h('option', { value: o }, o)));
}

export async function renderJobForm(root, name) {
  const editing = name !== null;
  const current = editing ? await api('GET', `/api/job/jobs/${encodeURIComponent(name)}`) : { ...DEFAULTS };
  const apps = await api('GET', '/api/app/list', { query: { page: 1, per_page: 1000 } });
  const props = current.jobProperties || {};
  const afterUpstreamsOnly = current.cron === NEVER_CRON && (current.dependsOn || []).length > 0;
  const inputs = {
    jobName: h('input', { value: current.jobName || '', readonly: editing, required: true }),
    appName: h('input', { value: current.appName || '', list: 'app-names', required: true }),
    jobType: select(['SIMPLE', 'DATAFLOW', 'SCRIPT'], current.jobType),
    jobExecutionType: select(['TRANSIENT', 'DAEMON'], current.jobExecutionType),
    cron: h('input', { value: afterUpstreamsOnly ? '' : current.cron || '', class: 'mono', required: true, autocomplete: 'off' }),
    timeZone: h('input', { value: current.timeZone || '', placeholder: t('cron.zoneDefault') }),
    shardingTotalCount: h('input', { type: 'number', step: '1', value: current.shardingTotalCount }),
    shardingItemParameters: h('input', { value: current.shardingItemParameters || '', placeholder: '0=a,1=b' }),
    jobParameter: h('input', { value: current.jobParameter || '' }),
    cpuCount: h('input', { type: 'number', step: 'any', value: current.cpuCount }),
    memoryMB: h('input', { type: 'number', step: 'any', value: current.memoryMB }),
    jobClass: h('input', { value: current.jobClass || '', placeholder: 'package.module.ClassName' }),
    streamingProcess: h('input', { type: 'checkbox', checked: current.streamingProcess }),
    scriptCommandLine: h('input', { value: current.scriptCommandLine || '' }),
    beanName: h('input', { value: current.beanName || '' }),
    applicationContext: h('input', { value: current.applicationContext || '' }),
    failover: h('input', { type: 'checkbox', checked: current.failover }),
    misfire: h('input', { type: 'checkbox', checked: current.misfire }),
    description: h('input', { value: current.description || '' }),
    job_exception_handler: h('input', { value: props.job_exception_handler || '' }),
    executor_service_handler: h('input', { value: props.executor_service_handler || '' }),
  };
  const policies = policyGroup(current, editing ? name : null);
  const preview = h('ul', { class: 'cron-preview', id: 'cron-preview', 'aria-live': 'polite' });
  const fields = Object.fromEntries(
    Object.entries(inputs).map(([key, input]) => [key, field(key, input, key === 'cron' ? { hint: preview } : {})]),
  );
  const form = h(
    'form',
    { class: 'card form', id: 'job-form', novalidate: true },
    h('h1', {}, editing ? t('jobs.edit', { name }) : t('jobs.new')),
    h('datalist', { id: 'app-names' }, apps.rows.map((app) => h('option', { value: app.appName }))),
    h('div', { class: 'columns' }, Object.values(fields)),
    policies.element,
    h('div', { class: 'form-error', role: 'alert' }),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('save')), h('a', { class: 'button', href: editing ? `#/jobs/${encodeURIComponent(name)}` : '#/jobs' }, t('cancel'))),
  );

  const typeDependent = ['jobClass', 'streamingProcess', 'scriptCommandLine'];
  const followType = () => {
    const shown = BY_TYPE[inputs.jobType.value] || [];
    for (const key of typeDependent) fields[key].hidden = !shown.includes(key);
  };
  inputs.jobType.addEventListener('change', followType);
  followType();
  const followUpstreams = () => {
    const after = policies.dependsOn().length > 0;
    inputs.cron.required = !after;
    inputs.cron.placeholder = after ? t('cron.afterUpstreams') : '';
  };
  policies.inputs.dependsOn.addEventListener('input', followUpstreams);
  followUpstreams();

  let asked = 0; // only the answer to the latest question is shown
  const showPreview = debounce(async () => {
    const cron = inputs.cron.value.trim();
    const mine = ++asked;
    if (!cron) {
      clear(preview).classList.remove('bad');
      return;
    }
    let items;
    let bad = false;
    try {
      const answer = await api('GET', '/api/cron/preview', { query: { cron, timeZone: inputs.timeZone.value.trim(), count: 5 } });
      items = [h('li', { class: 'zone' }, `${t('cron.preview')} (${answer.timeZone})`), answer.next.map((when) => h('li', {}, when))];
    } catch (error) {
      bad = true;
      items = [h('li', {}, error.errors?.cron?.join(' ') || error.errors?.timeZone?.join(' ') || error.message)];
    }
    if (mine !== asked) return;
    clear(preview).classList.toggle('bad', bad);
    preview.append(...items.flat());
  }, 250);
  inputs.cron.addEventListener('input', showPreview);
  inputs.cron.addEventListener('change', showPreview);
  inputs.timeZone.addEventListener('input', showPreview);
  showPreview();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    // a number field holding what is no number reads as empty, which would mean "not set": say so instead
    const unreadable = [...form.querySelectorAll('input[type=number]')].filter((input) => input.validity.badInput);
    if (unreadable.length) {
      showErrors(form, { errors: Object.fromEntries(unreadable.map((input) => [input.name, [t('form.notNumber')]])) });
      return;
    }
    const type = inputs.jobType.value;
    const text = (key) => inputs[key].value.trim();
    const body = {
      jobName: text('jobName'), appName: text('appName'), jobType: type,
      jobExecutionType: inputs.jobExecutionType.value, cron: text('cron'),
      shardingTotalCount: numberOrText(inputs.shardingTotalCount.value),
      shardingItemParameters: text('shardingItemParameters'), jobParameter: text('jobParameter'),
      cpuCount: numberOrText(inputs.cpuCount.value), memoryMB: numberOrText(inputs.memoryMB.value),
      failover: inputs.failover.checked, misfire: inputs.misfire.checked, description: text('description'),
    };
    if (text('timeZone')) body.timeZone = text('timeZone');
    if (type !== 'SCRIPT') body.jobClass = text('jobClass');
    if (type === 'DATAFLOW') body.streamingProcess = inputs.streamingProcess.checked;
    if (type === 'SCRIPT') body.scriptCommandLine = text('scriptCommandLine');
    if (text('beanName') || text('applicationContext')) {
      body.beanName = text('beanName');
      body.applicationContext = text('applicationContext');
    }
    const handlers = {};
    for (const key of ['job_exception_handler', 'executor_service_handler']) if (text(key)) handlers[key] = text(key);
    if (Object.keys(handlers).length) body.jobProperties = handlers;
    Object.assign(body, policies.changes(editing));
    // the server takes an empty cron only beside the upstreams: they go along even when unchanged
    if (!body.cron && body.dependsOn === undefined && policies.dependsOn().length) body.dependsOn = policies.dependsOn();
    try {
      await api(editing ? 'PUT' : 'POST', editing ? '/api/job/update' : '/api/job/register', { body });
      location.hash = `#/jobs/${encodeURIComponent(body.jobName)}`;
    } catch (error) {
      showErrors(form, error);
    }
  });
  root.append(form);
}
