/**
 * What each payment product allows. The single source of truth for §5's product table:
 * every rule that depends on the product asks `capabilitiesOf`.
 */
export const paymentProductTypes = [
  'klarna.klarna',
  'klarna.billie',
  'vipps',
  'payex.creditcard',
  'payex.mobilepay',
  'payex.vipps',
  'payex.applepay',
  'payex.googlepay',
  'payex.clicktopay',
  'bambora.creditcard',
  'netaxept.creditcard',
  'dintero_psp.creditcard',
  'collector.invoice',
  'collector.invoice_b2b',
  'collector.installment',
  'instabank.invoice',
  'swish.swish',
] as const;

export type PaymentProductType = (typeof paymentProductTypes)[number];

export function isPaymentProductType(value: unknown): value is PaymentProductType {
  return typeof value === 'string' && (paymentProductTypes as readonly string[]).includes(value);
}

export interface ProductCapabilities {
  /** How long an authorization lasts, in days; null when the product captures at payment. */
  readonly authorizationDays: number | null;
  /** Klarna: authorization auto-extends while unexpired, never beyond this many days in all. */
  readonly maxAuthorizationDays: number | null;
  /** More than one capture, or a capture below the authorized amount. */
  readonly partialCapture: boolean;
  /** Captures must consist of whole, not yet captured item lines. */
  readonly wholeLineCaptureOnly: boolean;
  /** Capture and refund must name the items they apply to. */
  readonly itemsRequired: boolean;
  /** Void of what is left after a partial capture. */
  readonly voidRemainder: boolean;
  /** Update authorization (new total and items). */
  readonly updateAuthorization: boolean;
  /** Update authorization without amount extends the authorization window. */
  readonly extendAuthorization: boolean;
  /** The payment is captured as part of paying (no authorization phase). */
  readonly capturedAtPayment: boolean;
  /** Card products carry a masked `card` object. */
  readonly card: boolean;
  /** Outcome `on_hold` is possible for this product. */
  readonly onHold: boolean;
}

const base: ProductCapabilities = {
  authorizationDays: 7,
  maxAuthorizationDays: null,
  partialCapture: true,
  wholeLineCaptureOnly: false,
  itemsRequired: false,
  voidRemainder: true,
  updateAuthorization: false,
  extendAuthorization: false,
  capturedAtPayment: false,
  card: false,
  onHold: false,
};

const klarna: ProductCapabilities = { ...base, authorizationDays: 28, updateAuthorization: true };
const payexCard: ProductCapabilities = { ...base, card: true };
const acquirerCard: ProductCapabilities = { ...base, voidRemainder: false, card: true };
const collector: ProductCapabilities = {
  ...base,
  authorizationDays: 90,
  wholeLineCaptureOnly: true,
  voidRemainder: false,
  onHold: true,
};

const capabilities: Record<PaymentProductType, ProductCapabilities> = {
  'klarna.klarna': { ...klarna, maxAuthorizationDays: 180, extendAuthorization: true },
  'klarna.billie': klarna,
  vipps: base,
  'payex.creditcard': payexCard,
  'payex.mobilepay': base,
  'payex.vipps': base,
  'payex.applepay': payexCard,
  'payex.googlepay': payexCard,
  'payex.clicktopay': payexCard,
  'bambora.creditcard': acquirerCard,
  'netaxept.creditcard': acquirerCard,
  'dintero_psp.creditcard': acquirerCard,
  'collector.invoice': collector,
  'collector.invoice_b2b': collector,
  'collector.installment': collector,
  'instabank.invoice': { ...base, authorizationDays: 28, itemsRequired: true, voidRemainder: false },
  'swish.swish': {
    ...base,
    authorizationDays: null,
    partialCapture: false,
    voidRemainder: false,
    capturedAtPayment: true,
  },
};

export function capabilitiesOf(type: PaymentProductType): ProductCapabilities {
  return capabilities[type];
}

/** `klarna.klarna` → `klarna`; `vipps` → `vipps`. */
export function paymentProductOf(type: PaymentProductType): string {
  const dot = type.indexOf('.');
  return dot === -1 ? type : type.slice(0, dot);
}

/**
 * The products a Dintero `PaymentConfiguration` enables: `{"vipps":{"enabled":true}}` for
 * `vipps`, `{"klarna":{"klarna":{"enabled":true}}}` for `klarna.klarna`.
 */
export function enabledProductTypes(configuration: unknown): PaymentProductType[] {
  const lookup = (node: unknown, key: string): unknown =>
    typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[key] : undefined;
  return paymentProductTypes.filter((type) => {
    const [product = '', variant] = type.split('.');
    const group = lookup(configuration, product);
    return lookup(variant === undefined ? group : lookup(group, variant), 'enabled') === true;
  });
}

/** The configuration of profile `default`: every sandbox product enabled. */
export function allProductsConfiguration(): Record<string, unknown> {
  const configuration: Record<string, Record<string, unknown>> = {};
  for (const type of paymentProductTypes) {
    const [product = '', variant] = type.split('.');
    const group = (configuration[product] ??= {});
    if (variant === undefined) group.enabled = true;
    else group[variant] = { enabled: true };
  }
  return configuration;
}
