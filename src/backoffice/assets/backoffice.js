// Kasse Backoffice: progressive enhancement only. Every page works without this file;
// with it, a few things need one click less. Loaded with `defer` from the app itself
// (CSP script-src 'self'): no inline script, nothing from elsewhere.
'use strict';

(function () {
  // Selects that submit their form when changed (account switcher, dashboard currency);
  // their "Switch"/"Show" buttons are only needed without script.
  for (const select of document.querySelectorAll('select[data-autosubmit]')) {
    select.addEventListener('change', () => select.form && select.form.requestSubmit());
  }
  for (const button of document.querySelectorAll('[data-js-hide]')) button.hidden = true;

  // Capture/refund: typing an amount or ticking a line picks the matching choice.
  for (const form of document.querySelectorAll('form[data-modes]')) {
    const pick = (mode) => {
      const radio = form.querySelector(`input[name="mode"][value="${mode}"]`);
      if (radio) radio.checked = true;
    };
    for (const input of form.querySelectorAll('[data-mode]')) {
      const mode = input.getAttribute('data-mode');
      input.addEventListener(input.type === 'checkbox' ? 'change' : 'input', () => pick(mode));
      if (input.type !== 'checkbox') input.addEventListener('focus', () => pick(mode));
    }
  }

  // "+ Add item" opens the form in place instead of reloading the page with ?add=item.
  for (const button of document.querySelectorAll('[data-reveal]')) {
    const target = document.getElementById(button.getAttribute('data-reveal'));
    if (!target) continue;
    button.addEventListener('click', (event) => {
      event.preventDefault();
      target.hidden = false;
      button.setAttribute('aria-expanded', 'true');
      const holder = button.closest('form');
      if (holder) holder.hidden = true;
      const first = target.querySelector('input:not([type=hidden])');
      if (first) first.focus();
    });
  }

  // A form that changes money is sent once: its buttons are disabled while it is on its way.
  // (The server also refuses a second confirmation with the same idempotency key.)
  for (const form of document.querySelectorAll('form[method="post"]')) {
    form.addEventListener('submit', () => {
      setTimeout(() => {
        for (const button of form.querySelectorAll('button[type="submit"]')) {
          button.disabled = true;
          button.setAttribute('aria-busy', 'true');
        }
      }, 0);
    });
  }
  // Coming back through the history shows the page as it was left: enable its buttons again.
  window.addEventListener('pageshow', (event) => {
    if (!event.persisted) return;
    for (const button of document.querySelectorAll('button[aria-busy="true"]')) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    }
  });
})();
