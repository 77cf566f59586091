/**
 * The page shell every backoffice page shares: skip link, banner with navigation, the
 * account switcher and sign-out, one main landmark. No inline script or style: the CSP
 * allows only the app's own CSS and JS files.
 */
import { accountLabel } from './format.js';
import { attr, html, type SafeHtml } from './html.js';

/** What the shell needs to know about the signed-in user. */
export interface Staff {
  readonly email: string;
  readonly accountId: string;
  readonly accountIds: readonly string[];
  readonly csrfToken: string;
}

export type Section = 'transactions' | 'dashboard';

export interface PageInput {
  readonly title: string;
  readonly staff?: Staff;
  readonly section?: Section;
  /** Where to come back to after switching accounts. */
  readonly path?: string;
  readonly body: SafeHtml;
}

export const ASSET_VERSION = '1';

export function csrfField(staff: Staff): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${staff.csrfToken}">`;
}

function accountSwitcher(staff: Staff, path: string): SafeHtml {
  if (staff.accountIds.length < 2) {
    return html`<span class="account" title="Account">${accountLabel(staff.accountId)}</span>`;
  }
  return html`<form method="post" action="/backoffice/account" class="account-switch">
${csrfField(staff)}<input type="hidden" name="return_to" value="${path}">
<label for="account-select">Account</label>
<select id="account-select" name="account_id" data-autosubmit>
${staff.accountIds.map((id) => html`<option value="${id}"${attr('selected', id === staff.accountId)}>${accountLabel(id)}</option>`)}
</select>
<button type="submit" class="button small" data-js-hide>Switch</button>
</form>`;
}

function navLink(href: string, label: string, current: boolean): SafeHtml {
  return html`<a href="${href}"${current ? html` aria-current="page"` : ''}>${label}</a>`;
}

export function renderPage(input: PageInput): string {
  const { staff } = input;
  const banner = staff
    ? html`<header class="topbar">
<a class="brand" href="/backoffice/transactions">Kasse <span>Backoffice</span></a>
<nav aria-label="Main">
${navLink('/backoffice/transactions', 'Transactions', input.section === 'transactions')}
${navLink('/backoffice/dashboard', 'Dashboard', input.section === 'dashboard')}
</nav>
<div class="who">
${accountSwitcher(staff, input.path ?? '/backoffice/transactions')}
<span class="email">${staff.email}</span>
<form method="post" action="/backoffice/logout" class="logout">${csrfField(staff)}<button type="submit" class="button small ghost">Log out</button></form>
</div>
</header>`
    : html`<header class="topbar"><span class="brand">Kasse <span>Backoffice</span></span></header>`;
  return `<!doctype html>
${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${input.title} · Kasse Backoffice</title>
<link rel="stylesheet" href="/backoffice/assets/backoffice.css?v=${ASSET_VERSION}">
<script src="/backoffice/assets/backoffice.js?v=${ASSET_VERSION}" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${banner}
<main id="main" tabindex="-1">
${input.body}
</main>
</body>
</html>`}`;
}

/** A short page for errors and dead ends, with a way back. */
export function renderMessagePage(input: { title: string; message: string; staff?: Staff; back?: { href: string; label: string } }): string {
  return renderPage({
    title: input.title,
    ...(input.staff ? { staff: input.staff } : {}),
    body: html`<div class="narrow">
<h1>${input.title}</h1>
<p class="alert" role="alert">${input.message}</p>
${input.back ? html`<p><a href="${input.back.href}">${input.back.label}</a></p>` : ''}
</div>`,
  });
}
