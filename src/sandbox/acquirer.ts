/**
 * The built-in sandbox acquirer: what a simulated provider answers when a customer pays,
 * and the details it attaches (a masked card for card products).
 */
import type { AuthorizationOutcome, OperationKind, ProviderAnswer } from '../domain/transaction.js';
import { capabilitiesOf, type PaymentProductType } from '../domain/products.js';


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

/** How the simulated provider answers an operation on a transaction paid with these sandbox settings. */
export function providerAnswer(sandbox: Record<string, unknown> | undefined, kind: OperationKind): ProviderAnswer {
  const answer = sandbox?.[kind.toLowerCase()];
  return answer === 'fail' || answer === 'async' ? answer : 'succeed';
}

export function asyncDelayMs(sandbox: Record<string, unknown> | undefined): number {
  const delay = sandbox?.async_delay_ms;
  return typeof delay === 'number' && Number.isSafeInteger(delay) && delay >= 0 ? delay : defaultSandboxOptions.async_delay_ms;
}
