import type { AnyProviderDefinition, ConnectField, ConnectFormDescription } from '../providers/definition.js';
import type { ConnectLink } from './links.js';

/**
 * The connect page's HTML, rendered on the server with every dynamic value escaped. Scripts and
 * styles are files served by the gateway (/connect/assets/*), so the page runs under the strict
 * Content-Security-Policy (script-src 'self') and needs no CDN or external font.
 */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function layout(title: string, body: string, head = ''): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="/connect/assets/connect.css">
${head}
</head>
<body>
${body}
</body>
</html>`;
}

/** The wrapper's attributes of a field shown only for one value of a choice (connect.js toggles it). */
function whenAttributes(field: ConnectField): string {
  return field.when
    ? ` data-when-field="${escapeHtml(field.when.field)}" data-when-equals="${escapeHtml(field.when.equals)}"`
    : '';
}

const INPUT_TYPES: Record<ConnectField['kind'], string> = {
  text: 'text',
  url: 'url',
  date: 'date',
  pem: 'text',
  choice: 'radio',
};

function optionalMark(field: ConnectField): string {
  return field.required === false ? ' <span class="optional">(optional)</span>' : '';
}

/** One field of the provider's form. Labels, help and options are the definition's own text. */
function renderField(field: ConnectField): string {
  const id = escapeHtml(field.name);
  if (field.kind === 'choice') {
    const options = (field.options ?? [])
      .map(
        (option, index) =>
          `<label class="choice"><input type="radio" name="${id}" value="${escapeHtml(option.value)}"${index === 0 ? ' checked' : ''}> ${escapeHtml(option.label)}</label>`,
      )
      .join('\n      ');
    return `<fieldset class="field" data-field="${id}"${whenAttributes(field)}>
      <legend>${escapeHtml(field.label)}</legend>
      ${options}
    </fieldset>`;
  }
  const hint = `<p class="hint" id="${id}-hint">${field.help}</p>`;
  const error = `<p class="field-error" id="${id}-error" aria-live="polite"></p>`;
  if (field.kind === 'pem') {
    const summary = field.describesCertificate
      ? '\n  <div id="certificate-summary" class="summary" aria-live="polite" hidden></div>'
      : '';
    return `<div class="field" data-field="${id}"${whenAttributes(field)}>
  <label for="${id}">${escapeHtml(field.label)}${optionalMark(field)}</label>
  ${hint}
  <textarea id="${id}" name="${id}" rows="5" spellcheck="false" autocomplete="off" aria-describedby="${id}-hint ${id}-error"${field.describesCertificate ? ' data-describes-certificate' : ''}></textarea>
  <label class="file">Or choose a file <input type="file" id="${id}-file" accept="${escapeHtml(field.accept ?? '')}" data-target="${id}"></label>
  ${error}${summary}
</div>`;
  }
  const type = field.secret ? 'password' : INPUT_TYPES[field.kind];
  return `<div class="field" data-field="${id}"${whenAttributes(field)}>
  <label for="${id}">${escapeHtml(field.label)}${optionalMark(field)}</label>
  ${hint}
  <input id="${id}" name="${id}" type="${type}" ${field.placeholder ? `placeholder="${escapeHtml(field.placeholder)}"` : ''}
    autocomplete="off" spellcheck="false" aria-describedby="${id}-hint ${id}-error"${field.required === false ? '' : ' required'}>
  ${error}
</div>`;
}

/**
 * What connect.js needs to read and check the form without knowing the provider: each field's
 * kind, whether it is required or shown only for a choice, and its rules. A JSON data block (not
 * a script: the Content-Security-Policy allows none inline), with "<" escaped so it cannot close it.
 */
function formData(form: ConnectFormDescription): string {
  const fields = form.fields.map((field) => ({
    name: field.name,
    kind: field.kind,
    required: field.required !== false,
    secret: field.secret === true,
    placeholder: field.placeholder ?? null,
    when: field.when ?? null,
    rules: field.rules ?? [],
  }));
  return JSON.stringify({ fields }).replaceAll('<', '\\u003c');
}

export function connectPage(link: ConnectLink, csrfToken: string, definition: AnyProviderDefinition): string {
  const form = definition.connectForm;
  const org = escapeHtml(link.organizationName);
  const platform = escapeHtml(link.platformName);
  const relink = link.purpose === 'relink';
  const heading = relink
    ? `Update the ${escapeHtml(form.systemName)} credentials of ${org}`
    : `Connect ${org}’s ${escapeHtml(definition.displayName)} to ${platform}`;
  const intro = relink
    ? `${platform} asks you to renew the connection (${form.relinkHint}). The connection keeps its history; only the credentials change.`
    : `${platform} ${form.intro}`;
  const fields = form.fields.filter((field) => !field.advanced).map(renderField);
  const advanced = form.fields.filter((field) => field.advanced).map(renderField);
  const body = `<main id="connect" data-purpose="${link.purpose}" data-provider="${escapeHtml(definition.id)}">
<header>
  <p class="eyebrow">${platform} · secure connection</p>
  <h1>${heading}</h1>
  <p>${intro}</p>
  <p class="expires">This link works once, until ${escapeHtml(link.expiresAt.toUTCString())}.</p>
</header>
<noscript><p class="alert">This page needs JavaScript to test your settings live. Please enable it and reload.</p></noscript>
<nav aria-label="Steps"><ol class="steps">
  <li data-step="1" aria-current="step">Prepare</li>
  <li data-step="2">Credentials</li>
  <li data-step="3">Checks</li>
  <li data-step="4">Connect</li>
</ol></nav>

<section id="step-1" data-step-panel="1" aria-labelledby="step-1-title">
  <h2 id="step-1-title" tabindex="-1">Step 1 · Prepare</h2>
  <p>Do these first, in the admin screens each step names. Tick them off as you go; nothing is sent yet.</p>
  <ol class="checklist">
    ${form.preparation.map((step) => `<li><label><input type="checkbox"> ${step}</label></li>`).join('\n    ')}
  </ol>
  <div class="actions"><button type="button" id="to-step-2" class="primary">I’m ready: enter the credentials</button></div>
</section>

<section id="step-2" data-step-panel="2" hidden aria-labelledby="step-2-title">
  <h2 id="step-2-title" tabindex="-1">Step 2 · Credentials</h2>
  <form id="credentials-form" novalidate>
    <p class="form-error" id="form-error" role="alert"></p>
    ${fields.join('\n    ')}${
      advanced.length > 0
        ? `
    <details>
      <summary>Advanced</summary>
      ${advanced.join('\n      ')}
    </details>`
        : ''
    }
    <div class="actions">
      <button type="button" class="secondary" data-go="1">Back</button>
      <button type="submit" class="primary" id="run-checks">Test the connection</button>
    </div>
  </form>
</section>

<section id="step-3" data-step-panel="3" hidden aria-labelledby="step-3-title">
  <h2 id="step-3-title" tabindex="-1">Step 3 · Live checks</h2>
  <p id="checks-status" role="status">Checking…</p>
  <ul id="checks" class="checks"></ul>
  <div id="models-panel" hidden>
    <h3>Where each kind of data comes from</h3>
    <ul id="models" class="checks"></ul>
  </div>
  <div class="actions">
    <button type="button" class="secondary" data-go="2">Back to the credentials</button>
    <button type="button" class="secondary" id="rerun-checks">Run the checks again</button>
    <button type="button" class="primary" id="connect-button" disabled>${relink ? 'Update the credentials' : 'Connect'}</button>
  </div>
</section>

<section id="step-4" data-step-panel="4" hidden aria-labelledby="step-4-title">
  <h2 id="step-4-title" tabindex="-1">Step 4 · ${relink ? 'Update' : 'Connect'}</h2>
  <p id="connect-status" role="status">Saving the connection…</p>
  <table id="progress" class="progress">
    <caption>First sync, per kind of data</caption>
    <thead><tr><th scope="col">Data</th><th scope="col">Source</th><th scope="col">Status</th></tr></thead>
    <tbody></tbody>
  </table>
  <div id="finish" class="finish" hidden tabindex="-1"></div>
</section>
</main>
<script type="application/json" id="connect-form">${formData(form)}</script>
<script src="/connect/assets/connect.js"></script>`;
  return layout(
    relink ? `Update credentials · ${link.platformName}` : `Connect to ${link.platformName}`,
    body,
    `<meta name="csrf-token" content="${escapeHtml(csrfToken)}">
<meta name="platform-name" content="${platform}">
<meta name="organization-name" content="${org}">`,
  );
}

/** A used, expired or unknown link: a page that says what happened and what to do, no error dump. */
export function linkGonePage(state: 'used' | 'expired' | 'unknown', link?: ConnectLink): string {
  const platform = link ? escapeHtml(link.platformName) : 'the platform that sent it';
  const [title, text] =
    state === 'used'
      ? [
          'This link has already been used',
          `The connection was completed with this link, and each link works only once. If you need to change the credentials, ask ${platform} for a new link.`,
        ]
      : state === 'expired'
        ? [
            'This link has expired',
            `For your security, connect links stop working after a few days. Ask ${platform} to send you a new one.`,
          ]
        : [
            'This link is not valid',
            'Check that you copied the whole address from the message you received, or ask the platform that sent it for a new link.',
          ];
  return layout(
    title,
    `<main class="gone"><h1>${escapeHtml(title)}</h1><p>${text}</p><p class="hint">Nothing was changed. You can close this page.</p></main>`,
  );
}
