/**
 * The built-in sandbox acquirer: what a simulated provider answers when a customer pays,
 * and the details it attaches (a masked card for card products).
 */
import type { AuthorizationOutcome } from '../domain/transaction.js';
import { capabilitiesOf, type PaymentProductType } from '../domain/products.js';

export type ProviderAnswer = 'succeed' | 'fail' | 'async';

export interface SandboxOptions {
  readonly outcome: AuthorizationOutcome;
  readonly capture: ProviderAnswer;
  readonly refund: ProviderAnswer;
  readonly void: ProviderAnswer;
  readonly async_delay_ms: number;
}

export const defaultSandboxOptions: SandboxOptions = {
  outcome: 'authorized',
  capture: 'succeed',
  refund: 'succeed',
  void: 'succeed',
  async_delay_ms: 1000,
};

/** The masked card a card product's transaction carries (a Visa test card). */
export function sandboxCard(type: PaymentProductType): Record<string, unknown> | undefined {
  if (!capabilitiesOf(type).card) return undefined;
  return {
    brand: 'Visa',
    masked_pan: '411111******1111',
    expiry_date: '12/2030',
    type: 'Credit Card',
    country: 'NO',
  };
}
