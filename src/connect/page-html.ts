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

function field(options: {
  id: string;
  label: string;
  hint: string;
  type?: string;
  placeholder?: string;
  required?: boolean;
  autocomplete?: string;
}): string {
  const { id, label, hint } = options;
  return `<div class="field" data-field="${id}">
  <label for="${id}">${escapeHtml(label)}${options.required === false ? ' <span class="optional">(optional)</span>' : ''}</label>
  <p class="hint" id="${id}-hint">${hint}</p>
  <input id="${id}" name="${id}" type="${options.type ?? 'text'}" ${options.placeholder ? `placeholder="${escapeHtml(options.placeholder)}"` : ''}
    autocomplete="${options.autocomplete ?? 'off'}" spellcheck="false" aria-describedby="${id}-hint ${id}-error"${options.required === false ? '' : ' required'}>
  <p class="field-error" id="${id}-error" aria-live="polite"></p>
</div>`;
}

function pemField(id: string, label: string, hint: string, accept: string): string {
  return `<div class="field" data-field="${id}">
  <label for="${id}">${escapeHtml(label)}</label>
  <p class="hint" id="${id}-hint">${hint}</p>
  <textarea id="${id}" name="${id}" rows="5" spellcheck="false" autocomplete="off" aria-describedby="${id}-hint ${id}-error"></textarea>
  <label class="file">Or choose a file <input type="file" id="${id}-file" accept="${accept}" data-target="${id}"></label>
  <p class="field-error" id="${id}-error" aria-live="polite"></p>
</div>`;
}

const ENTRA = 'Entra admin center › App registrations';

export function connectPage(link: ConnectLink, csrfToken: string): string {
  const org = escapeHtml(link.organizationName);
  const platform = escapeHtml(link.platformName);
  const relink = link.purpose === 'relink';
  const heading = relink
    ? `Update the Dynamics 365 credentials of ${org}`
    : `Connect ${org}’s Dynamics 365 Human Resources to ${platform}`;
  const intro = relink
    ? `${platform} asks you to renew the connection (for example a new client secret or certificate). The connection keeps its history; only the credentials change.`
    : `${platform} will read workers, employments, dependents and benefits from your Dynamics 365 Human Resources environment, read-only. This takes about 15 minutes and needs an administrator of Microsoft Entra ID and of the Power Platform environment.`;
  const body = `<main id="connect" data-purpose="${link.purpose}">
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
  <p>Do these in Microsoft’s admin centers first. Tick them off as you go; nothing is sent yet.</p>
  <ol class="checklist">
    <li><label><input type="checkbox"> <strong>Register an app</strong> in ${ENTRA} › New registration (single tenant). Note its <em>Application (client) ID</em> and <em>Directory (tenant) ID</em> from the Overview page.</label></li>
    <li><label><input type="checkbox"> <strong>Give it a credential</strong> under Certificates &amp; secrets: a <strong>certificate (recommended</strong>: nothing secret travels, and it can live up to years) or a client secret (copy its <em>Value</em>, not its Secret ID, and note its expiry date).</label></li>
    <li><label><input type="checkbox"> <strong>Add the API permission</strong> under API permissions › Add a permission › Dynamics CRM › <em>user_impersonation</em>, then click <strong>Grant admin consent</strong>.</label></li>
    <li><label><input type="checkbox"> <strong>Create the application user</strong> in Power Platform admin center › Environments › your environment › Settings › Users + permissions › Application users › New app user: pick the app, the business unit, and a <strong>security role</strong> that can read the Human Resources tables (workers, employments, positions, benefits).</label></li>
    <li><label><input type="checkbox"> <strong>Copy the Dataverse environment URL</strong> from the environment’s details page (e.g. https://contoso.crm.dynamics.com).</label></li>
    <li><label><input type="checkbox"> <em>Optional</em>: for dependents and benefit enrollments, the <strong>Finance &amp; Operations URL</strong> (e.g. https://contoso.operations.dynamics.com) and the app’s entry in F&amp;O › System administration › Setup › <strong>Microsoft Entra applications</strong> (client ID mapped to a user with read access).</label></li>
  </ol>
  <div class="actions"><button type="button" id="to-step-2" class="primary">I’m ready: enter the credentials</button></div>
</section>

<section id="step-2" data-step-panel="2" hidden aria-labelledby="step-2-title">
  <h2 id="step-2-title" tabindex="-1">Step 2 · Credentials</h2>
  <form id="credentials-form" novalidate>
    <p class="form-error" id="form-error" role="alert"></p>
    ${field({ id: 'tenant_id', label: 'Directory (tenant) ID', hint: `${ENTRA} › your app › Overview. A GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47.`, placeholder: '00000000-0000-0000-0000-000000000000' })}
    ${field({ id: 'client_id', label: 'Application (client) ID', hint: 'Same Overview page, the app’s own GUID.', placeholder: '00000000-0000-0000-0000-000000000000' })}
    <fieldset class="field" data-field="auth_type">
      <legend>How the app signs in</legend>
      <label class="choice"><input type="radio" name="auth_type" value="certificate" checked> Certificate (recommended)</label>
      <label class="choice"><input type="radio" name="auth_type" value="secret"> Client secret</label>
    </fieldset>
    <div id="certificate-fields">
      ${pemField('certificate_pem', 'Certificate (PEM)', 'The certificate you uploaded to the app registration: -----BEGIN CERTIFICATE----- …', '.pem,.cer,.crt')}
      <div id="certificate-summary" class="summary" aria-live="polite" hidden></div>
      ${pemField('private_key_pem', 'Private key (PEM, unencrypted)', 'Stays encrypted at rest in the gateway; never shown again. -----BEGIN PRIVATE KEY----- …', '.pem,.key')}
    </div>
    <div id="secret-fields" hidden>
      ${field({ id: 'client_secret', label: 'Client secret value', hint: 'Certificates &amp; secrets › Client secrets: the <em>Value</em> column (shown only right after creation), not the Secret ID.', type: 'password', autocomplete: 'off' })}
      ${field({ id: 'client_secret_expires_at', label: 'Secret expiry date', hint: 'The Expires column. We warn you 30 days before it.', type: 'date', required: false })}
    </div>
    ${field({ id: 'dataverse_url', label: 'Dataverse environment URL', hint: 'Power Platform admin center › Environments › your environment › Environment URL.', type: 'url', placeholder: 'https://contoso.crm.dynamics.com' })}
    ${field({ id: 'fno_url', label: 'Finance & Operations URL', hint: 'Only if dependents and benefit enrollments live in Finance &amp; Operations.', type: 'url', placeholder: 'https://contoso.operations.dynamics.com', required: false })}
    <details>
      <summary>Advanced</summary>
      ${field({ id: 'authority_host', label: 'Microsoft Entra authority host', hint: 'Leave empty for the public cloud (https://login.microsoftonline.com).', type: 'url', placeholder: 'https://login.microsoftonline.com', required: false })}
    </details>
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
