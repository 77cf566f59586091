/**
 * Typed HTML templates: `html` escapes every interpolated value unless it is already
 * `SafeHtml` (another template's output), so a page cannot forget to escape a merchant
 * reference or a customer name.
 */
import { escapeHtml } from '../sandbox/hosted-page.js';

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** Markup produced elsewhere and known to be safe (an SVG built from numbers, say). */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** ` attribute` when the condition holds: `<input${attr('checked', on)}>`. */
export function attr(name: string, on: boolean): SafeHtml {
  return new SafeHtml(on ? ` ${name}` : '');
}
