/**
 * The transaction page's callback and webhook deliveries, each with its attempts (status
 * code, latency, error), from the delivery log (§10, §11). Read-only: resending is the API's
 * `POST /v1/accounts/{aid}/hooks/deliveries/{id}/resend`.
 */
import type { DeliveryView } from '../services/webhooks.js';
import { html, type SafeHtml } from './html.js';

const statusTone: Record<DeliveryView['status'], string> = { delivered: 'good', pending: 'pending', failed: 'bad', cancelled: 'closed' };

function attempts(delivery: DeliveryView): SafeHtml {
  if (delivery.attempts.length === 0) return html`<span class="muted">none yet</span>`;
  return html`${delivery.attempts.map(
    (attempt, index) =>
      html`${index > 0 ? html`<br>` : ''}#${attempt.attempt} ${attempt.status_code === null ? '' : `HTTP ${attempt.status_code}`}${attempt.latency_ms === null ? '' : ` · ${attempt.latency_ms} ms`}${attempt.error && attempt.status_code === null ? html` · <span class="muted">${attempt.error}</span>` : ''} <span class="muted">${attempt.started_at.slice(11, 19)}</span>`,
  )}`;
}

export function deliveriesSection(deliveries: readonly DeliveryView[] | undefined): SafeHtml {
  if (deliveries === undefined) return html``;
  return html`<section aria-labelledby="deliveries-h" class="card">
<h2 id="deliveries-h">Callbacks and webhooks</h2>
${
  deliveries.length === 0
    ? html`<p class="muted">Nothing was sent for this transaction.</p>`
    : html`<div class="table-wrap"><table class="deliveries">
<thead><tr><th scope="col">Sent</th><th scope="col">Event</th><th scope="col">To</th><th scope="col">Status</th><th scope="col">Attempts</th></tr></thead>
<tbody>
${deliveries.map(
  (delivery) => html`<tr>
<td class="nowrap">${delivery.kind === 'callback' ? 'Callback' : 'Webhook'}</td>
<td class="nowrap"><strong>${delivery.event}</strong> <span class="muted">#${delivery.event_id}</span></td>
<td><span class="mono break">${delivery.method} ${delivery.url}</span></td>
<td class="nowrap"><span class="badge badge-${statusTone[delivery.status]}">${delivery.status}</span>${delivery.next_attempt_at ? html`<br><span class="muted">next ${delivery.next_attempt_at.slice(11, 19)}</span>` : ''}</td>
<td class="nowrap">${attempts(delivery)}</td>
</tr>`,
)}
</tbody>
</table></div>`
}
</section>`;
}
