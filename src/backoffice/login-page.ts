/** Sign in: email and password, with the reason when sign-in is refused or paused. */
import { html } from './html.js';
import { renderPage } from './layout.js';

export interface LoginPageInput {
  /** Token of the login form (double-submit: the same value is in a cookie). */
  readonly formToken: string;
  readonly next?: string;
  readonly email?: string;
  readonly error?: string;
  readonly notice?: string;
}

export function renderLoginPage(input: LoginPageInput): string {
  return renderPage({
    title: 'Sign in',
    body: html`<div class="login">
<h1>Sign in</h1>
<p class="muted">Kasse Backoffice: find and manage transactions.</p>
${input.notice ? html`<p class="notice" role="status">${input.notice}</p>` : ''}
${input.error ? html`<p class="alert" role="alert" id="login-error">${input.error}</p>` : ''}
<form method="post" action="/backoffice/login" class="stack"${input.error ? html` aria-describedby="login-error"` : ''}>
<input type="hidden" name="_csrf" value="${input.formToken}">
${input.next ? html`<input type="hidden" name="next" value="${input.next}">` : ''}
<div class="field">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="320" value="${input.email ?? ''}"${input.email ? '' : html` autofocus`}>
</div>
<div class="field">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1000"${input.email ? html` autofocus` : ''}>
</div>
<button type="submit" class="button primary wide">Sign in</button>
</form>
</div>`,
  });
}
