// The connect page's behaviour: steps, field validation before anything is sent, the live
// checks streamed as NDJSON, then the connection and its first sync. Plain browser JavaScript
// served by the gateway (CSP script-src 'self'); every server value is written with textContent.

(() => {
  const $ = (id) => document.getElementById(id);
  const meta = (name) => document.querySelector(`meta[name="${name}"]`)?.getAttribute('content') ?? '';
  const csrfToken = meta('csrf-token');
  const base = window.location.pathname.replace(/\/+$/, '');
  const purpose = $('connect').dataset.purpose;

  // The provider's form, as data (page-html.ts): each field's kind, whether it is required or shown
  // only for one choice, and the rules checked here before anything is sent.
  const FIELDS = JSON.parse($('connect-form').textContent).fields;
  const INPUTS = FIELDS.filter((field) => field.kind !== 'choice');
  const MODEL_LABELS = {
    employees: 'Employees',
    employments: 'Employments',
    dependents: 'Dependents',
    benefit_plans: 'Benefit plans',
    benefit_enrollments: 'Benefit enrollments',
    companies: 'Companies',
    departments: 'Departments',
    job_positions: 'Job positions',
    auxiliary: 'Supporting tables',
  };
  const BADGES = { ok: 'Passed', warning: 'Warning', failure: 'Failed', skipped: 'Skipped' };
  let plannedModels = [];

  // ─── Steps ────────────────────────────────────────────────────────────────
  function showStep(step) {
    for (const panel of document.querySelectorAll('[data-step-panel]')) {
      panel.hidden = panel.dataset.stepPanel !== String(step);
    }
    for (const item of document.querySelectorAll('.steps li')) {
      if (item.dataset.step === String(step)) item.setAttribute('aria-current', 'step');
      else item.removeAttribute('aria-current');
    }
    $(`step-${step}-title`).focus();
  }
  $('to-step-2').addEventListener('click', () => showStep(2));
  for (const button of document.querySelectorAll('[data-go]')) {
    button.addEventListener('click', () => showStep(Number(button.dataset.go)));
  }

  // ─── Credentials form ─────────────────────────────────────────────────────
  const choiceValue = (name) => document.querySelector(`input[name="${name}"]:checked`)?.value;
  const isShown = (field) => !field.when || choiceValue(field.when.field) === field.when.equals;
  function showConditionalFields() {
    for (const wrapper of document.querySelectorAll('[data-when-field]')) {
      wrapper.hidden = choiceValue(wrapper.dataset.whenField) !== wrapper.dataset.whenEquals;
    }
  }
  for (const field of FIELDS.filter((candidate) => candidate.kind === 'choice')) {
    for (const radio of document.querySelectorAll(`input[name="${field.name}"]`)) {
      radio.addEventListener('change', showConditionalFields);
    }
  }
  showConditionalFields();

  function readForm() {
    const form = {};
    for (const field of FIELDS) {
      // Only the fields shown are sent: a secret typed and then abandoned never leaves the page.
      if (!isShown(field)) continue;
      if (field.kind === 'choice') {
        form[field.name] = choiceValue(field.name);
        continue;
      }
      const raw = $(field.name).value;
      const value = field.secret ? raw : raw.trim();
      if (field.required || value) form[field.name] = value;
    }
    return form;
  }

  /** The field's rules (the same the server applies), so nothing is sent while a field is wrong. */
  function fieldProblem(field, value) {
    if (!value) return field.required ? 'required' : undefined;
    if (field.kind === 'url') {
      try {
        new URL(value);
      } catch {
        return field.placeholder ? `must be a URL such as ${field.placeholder}` : 'must be a URL';
      }
    }
    for (const rule of field.rules) {
      const matches = new RegExp(rule.pattern, rule.flags ?? '').test(value);
      if (matches !== (rule.mustMatch ?? true)) return rule.message;
    }
    return undefined;
  }

  function validate(form) {
    const errors = [];
    for (const field of INPUTS) {
      if (!isShown(field)) continue;
      const problem = fieldProblem(field, form[field.name] ?? '');
      if (problem) errors.push({ field: field.name, message: problem });
    }
    return errors;
  }

  function clearErrors() {
    $('form-error').textContent = '';
    for (const field of INPUTS) {
      $(`${field.name}-error`).textContent = '';
      $(field.name).removeAttribute('aria-invalid');
    }
  }

  function showErrors(errors) {
    clearErrors();
    let first;
    for (const error of errors) {
      const input = error.field ? $(error.field) : null;
      if (input && $(`${error.field}-error`)) {
        $(`${error.field}-error`).textContent = error.message;
        input.setAttribute('aria-invalid', 'true');
        if (input.closest('details')) input.closest('details').open = true;
        first ??= input;
      } else {
        $('form-error').textContent = error.message;
      }
    }
    showStep(2);
    (first ?? $('form-error')).focus();
  }

  for (const input of document.querySelectorAll('input[type="file"][data-target]')) {
    input.addEventListener('change', async () => {
      const file = input.files?.[0];
      if (!file) return;
      $(input.dataset.target).value = await file.text();
      await describeCertificate();
    });
  }

  // ─── Server calls ─────────────────────────────────────────────────────────
  function post(path, body) {
    return fetch(`${base}/${path}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
      body: JSON.stringify(body),
    });
  }

  async function errorOf(response) {
    try {
      const body = await response.json();
      return body.error ?? { message: `HTTP ${response.status}`, details: [] };
    } catch {
      return { message: `The gateway answered HTTP ${response.status}; try again in a minute.`, details: [] };
    }
  }

  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      buffer += decoder.decode(value ?? new Uint8Array(), { stream: !done });
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (line) onEvent(JSON.parse(line));
        newline = buffer.indexOf('\n');
      }
      if (done) return;
    }
  }

  // A certificate field shows what it holds (subject, thumbprint, expiry) as soon as it is filled.
  const certificateInput = document.querySelector('[data-describes-certificate]');
  const privateKeyInput = $('private_key_pem');
  async function describeCertificate() {
    if (!certificateInput) return;
    const certificate = certificateInput.value.trim();
    const summary = $('certificate-summary');
    if (!certificate.includes('BEGIN CERTIFICATE')) {
      summary.hidden = true;
      return;
    }
    const body = { certificate_pem: certificate };
    if (privateKeyInput?.value.includes('PRIVATE KEY')) body.private_key_pem = privateKeyInput.value;
    const response = await post('certificate', body);
    for (const input of [certificateInput, privateKeyInput].filter(Boolean)) {
      $(`${input.id}-error`).textContent = '';
      input.removeAttribute('aria-invalid');
    }
    if (!response.ok) {
      summary.hidden = true;
      const error = await errorOf(response);
      for (const detail of error.details ?? []) {
        if (detail.field && $(`${detail.field}-error`)) {
          $(`${detail.field}-error`).textContent = detail.message;
          $(detail.field).setAttribute('aria-invalid', 'true');
        }
      }
      return;
    }
    const facts = await response.json();
    summary.replaceChildren();
    const line = (label, text) => {
      const p = document.createElement('p');
      const strong = document.createElement('strong');
      strong.textContent = `${label}: `;
      p.append(strong, text);
      summary.append(p);
    };
    line('Thumbprint', facts.thumbprint_sha1);
    line('Expires', `${facts.not_after.slice(0, 10)} (in ${facts.days_left} days)`);
    line('Subject', facts.subject);
    if (facts.key_matches) line('Private key', 'matches the certificate');
    summary.hidden = false;
  }
  certificateInput?.addEventListener('change', describeCertificate);
  privateKeyInput?.addEventListener('change', describeCertificate);

  // ─── Step 3: live checks ──────────────────────────────────────────────────
  function checkItem(result) {
    const item = document.createElement('li');
    item.className = `check ${result.status}`;
    item.dataset.checkId = result.id;
    item.dataset.status = result.status;
    const title = document.createElement('p');
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = BADGES[result.status] ?? result.status;
    const name = document.createElement('strong');
    name.textContent = result.title;
    title.append(badge, name);
    const detail = document.createElement('p');
    detail.className = 'detail';
    detail.textContent = result.detail;
    item.append(title, detail);
    if (result.remediation) {
      const fix = document.createElement('p');
      fix.className = 'remediation';
      const label = document.createElement('span');
      label.className = 'fix';
      label.textContent = 'How to fix: ';
      fix.append(label, result.remediation);
      item.append(fix);
    }
    return item;
  }

  function modelResult(model) {
    const label = MODEL_LABELS[model.model] ?? model.model;
    if (model.kind === 'unavailable') {
      return {
        id: `model:${model.model}`,
        title: `${label}: unavailable`,
        status: 'warning',
        detail: model.reason,
      };
    }
    return {
      id: `model:${model.model}`,
      title: `${label}: ${model.label}`,
      status: 'ok',
      detail: model.reason,
    };
  }

  let lastForm;
  async function runChecks() {
    const form = readForm();
    const errors = validate(form);
    if (errors.length > 0) {
      showErrors(errors);
      return;
    }
    clearErrors();
    lastForm = form;
    showStep(3);
    const list = $('checks');
    list.replaceChildren();
    $('models').replaceChildren();
    $('models-panel').hidden = true;
    $('connect-button').disabled = true;
    $('checks-status').textContent = 'Checking… each result appears as soon as it is known.';
    let response;
    try {
      response = await post('checks', form);
    } catch {
      $('checks-status').textContent =
        'The gateway could not be reached; check your network and run the checks again.';
      return;
    }
    if (!response.ok) {
      const error = await errorOf(response);
      if ((error.details ?? []).some((detail) => detail.field)) showErrors(error.details);
      else $('checks-status').textContent = error.message;
      return;
    }
    await readEvents(response, (event) => {
      if (event.type === 'check') list.append(checkItem(event));
      if (event.type === 'models') {
        plannedModels = event.models;
        $('models-panel').hidden = false;
        $('models').replaceChildren(...event.models.map((model) => checkItem(modelResult(model))));
      }
      if (event.type === 'done') {
        $('connect-button').disabled = !event.can_connect;
        $('checks-status').textContent = event.can_connect
          ? event.warnings > 0
            ? `Ready to ${purpose === 'relink' ? 'update' : 'connect'}, with ${event.warnings} warning(s) worth reading.`
            : `All checks passed. Ready to ${purpose === 'relink' ? 'update' : 'connect'}.`
          : `${event.failures} check(s) failed. Fix what each says, then run the checks again.`;
      }
    });
  }
  $('credentials-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void runChecks();
  });
  $('rerun-checks').addEventListener('click', () => void runChecks());

  // ─── Step 4: connect and first sync ───────────────────────────────────────
  const rows = new Map();
  function progressRow(model) {
    if (rows.has(model)) return rows.get(model);
    const row = document.createElement('tr');
    row.dataset.model = model;
    const name = document.createElement('th');
    name.scope = 'row';
    name.textContent = MODEL_LABELS[model] ?? model;
    const source = document.createElement('td');
    const status = document.createElement('td');
    status.className = 'status';
    row.append(name, source, status);
    $('progress').tBodies[0].append(row);
    const entry = { row, source, status, sources: new Map() };
    rows.set(model, entry);
    return entry;
  }

  function renderProgress(entry) {
    let records = 0;
    let done = true;
    for (const progress of entry.sources.values()) {
      records += progress.records;
      done &&= progress.done;
    }
    entry.status.textContent = `${done ? 'Done' : 'Syncing'}: ${records.toLocaleString()} records`;
    entry.row.dataset.state = done ? 'done' : 'syncing';
  }

  function finish(event) {
    const panel = $('finish');
    panel.replaceChildren();
    const heading = document.createElement('h3');
    const text = document.createElement('p');
    const platform = meta('platform-name');
    if (event.status === 'succeeded' || event.status === 'running_elsewhere') {
      heading.textContent = purpose === 'relink' ? 'Credentials updated' : 'Connected';
      text.textContent =
        purpose === 'relink'
          ? `${platform} keeps its access with the new credentials; nothing else to do. You can close this page.`
          : `${meta('organization-name')} is connected to ${platform}, and the first sync is done. The data stays fresh automatically. You can close this page.`;
    } else {
      panel.classList.add('failed');
      heading.textContent = 'Connected, but the first sync failed';
      text.textContent = event.status_reason ?? 'The gateway will retry on its schedule.';
    }
    panel.append(heading, text);
    if (publicToken) {
      const label = document.createElement('p');
      label.textContent = `If ${platform}’s app asks for a connection code, give it this one (valid once, for 24 hours):`;
      const code = document.createElement('code');
      code.id = 'public-token';
      code.textContent = publicToken;
      panel.append(label, code);
    }
    panel.hidden = false;
    panel.focus();
  }

  let publicToken = null;
  async function connect() {
    $('connect-button').disabled = true;
    showStep(4);
    $('progress').tBodies[0].replaceChildren();
    rows.clear();
    for (const model of plannedModels) {
      const entry = progressRow(model.model);
      entry.source.textContent = model.kind === 'unavailable' ? 'Unavailable' : model.label;
      entry.status.textContent = model.kind === 'unavailable' ? model.reason : 'Waiting';
      entry.row.dataset.state = model.kind === 'unavailable' ? 'unavailable' : 'waiting';
    }
    let response;
    try {
      response = await post('connect', lastForm);
    } catch {
      $('connect-status').textContent =
        'The gateway could not be reached; nothing was saved. Go back and try again.';
      return;
    }
    if (!response.ok) {
      const error = await errorOf(response);
      $('connect-status').textContent = error.message;
      return;
    }
    $('connect-status').textContent = 'Saved. Running the first sync…';
    await readEvents(response, (event) => {
      if (event.type === 'linked') publicToken = event.public_token;
      if (event.type === 'progress') {
        const entry = progressRow(event.model);
        const planned = plannedModels.find((model) => model.model === event.model);
        entry.source.textContent = planned && planned.kind !== 'unavailable' ? planned.label : event.source;
        entry.sources.set(event.source, event);
        renderProgress(entry);
      }
      if (event.type === 'finished') {
        $('connect-status').textContent =
          event.status === 'failed' ? 'The first sync failed.' : 'First sync complete.';
        finish(event);
      }
    });
  }
  $('connect-button').addEventListener('click', () => void connect());
})();
