/**
 * Request and response schemas (typebox → JSON Schema): bodies are validated without
 * type coercion, so "100" or 1.5 for an amount is a 400, and responses are serialised
 * from their schema.
 */
import Type from 'typebox';
import { paymentProductTypes } from '../domain/products.js';
import { transactionStatuses } from '../domain/status.js';

const open = { additionalProperties: true } as const;

export const AmountSchema = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'Minor units of the currency' });
const Text = (max = 1000) => Type.String({ minLength: 1, maxLength: max });
const Metadata = Type.Record(Type.String({ maxLength: 200 }), Type.Unknown(), { maxProperties: 100 });

export const OrderItemSchema = Type.Object(
  {
    line_id: Text(200),
    amount: AmountSchema,
    quantity: Type.Optional(Type.Number({ minimum: 0 })),
    id: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
    vat: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    vat_amount: Type.Optional(AmountSchema),
    type: Type.Optional(Type.String({ maxLength: 50 })),
  },
  open,
);
const Items = Type.Array(OrderItemSchema, { maxItems: 1000 });

const ShippingOptionSchema = Type.Object(
  {
    id: Text(200),
    line_id: Text(200),
    amount: AmountSchema,
    operator: Type.String({ maxLength: 200 }),
    title: Type.Optional(Type.String({ maxLength: 500 })),
    vat: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    vat_amount: Type.Optional(AmountSchema),
  },
  open,
);

const Address = Type.Object({}, open);

export const CreateSessionSchema = Type.Object(
  {
    url: Type.Object(
      {
        return_url: Type.String({ format: 'uri', maxLength: 2000 }),
        callback_url: Type.Optional(Type.String({ format: 'uri', maxLength: 2000 })),
      },
      open,
    ),
    order: Type.Object(
      {
        amount: AmountSchema,
        currency: Type.String({ pattern: '^[A-Z]{3}$' }),
        merchant_reference: Text(200),
        merchant_reference_2: Type.Optional(Type.String({ maxLength: 200 })),
        items: Type.Optional(Items),
        shipping_option: Type.Optional(ShippingOptionSchema),
        vat_amount: Type.Optional(AmountSchema),
        partial_payment: Type.Optional(Type.Boolean()),
        shipping_address: Type.Optional(Address),
        billing_address: Type.Optional(Address),
      },
      open,
    ),
    customer: Type.Optional(
      Type.Object(
        {
          email: Type.Optional(Type.String({ maxLength: 320 })),
          phone_number: Type.Optional(Type.String({ maxLength: 40 })),
          customer_id: Type.Optional(Type.String({ maxLength: 200 })),
        },
        open,
      ),
    ),
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
    configuration: Type.Optional(Type.Object({ auto_capture: Type.Optional(Type.Boolean()) }, open)),
    metadata: Type.Optional(Metadata),
  },
  open,
);

export const CreateSessionFromProfileSchema = Type.Intersect([
  Type.Omit(CreateSessionSchema, ['configuration']),
  Type.Object({ profile_id: Text(200) }),
]);

export const SessionCreatedSchema = Type.Object({ id: Type.String(), url: Type.String() });

const ProviderAnswer = Type.Union([Type.Literal('succeed'), Type.Literal('fail'), Type.Literal('async')]);

export const PaySchema = Type.Object(
  {
    payment_product_type: Type.Union(paymentProductTypes.map((type) => Type.Literal(type))),
    sandbox: Type.Optional(
      Type.Object(
        {
          outcome: Type.Optional(
            Type.Union(['authorized', 'declined', 'failed', 'on_hold', 'unknown'].map((outcome) => Type.Literal(outcome))),
          ),
          capture: Type.Optional(ProviderAnswer),
          refund: Type.Optional(ProviderAnswer),
          void: Type.Optional(ProviderAnswer),
          async_delay_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 3_600_000 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  open,
);

export const PayResultSchema = Type.Object({ success: Type.Boolean(), transaction_id: Type.String(), redirect_url: Type.String() });

export const CaptureSchema = Type.Object(
  {
    amount: AmountSchema,
    capture_reference: Type.Optional(Type.String({ maxLength: 200 })),
    items: Type.Optional(Items),
    metadata: Type.Optional(Metadata),
    final_capture: Type.Optional(Type.Boolean()),
  },
  open,
);

export const RefundSchema = Type.Object(
  {
    amount: AmountSchema,
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
    refund_reference: Type.Optional(Type.String({ maxLength: 200 })),
    items: Type.Optional(Items),
    metadata: Type.Optional(Metadata),
  },
  open,
);

export const UpdateAuthorizationSchema = Type.Object(
  {
    amount: Type.Optional(AmountSchema),
    items: Type.Optional(Items),
    reason: Type.Optional(Type.String({ maxLength: 1000 })),
    reference: Type.Optional(Type.String({ maxLength: 200 })),
    description: Type.Optional(Type.String({ maxLength: 1000 })),
  },
  open,
);

export const UpdateTransactionSchema = Type.Object({ merchant_reference_2: Type.String({ maxLength: 200 }) }, open);

const EventSchema = Type.Object(
  {
    id: Type.String(),
    event: Type.String(),
    success: Type.Boolean(),
    amount: Type.Optional(Type.Integer()),
    transaction_status: Type.String(),
    request_id: Type.Optional(Type.String()),
    correlation_request_id: Type.Optional(Type.String()),
    created_at: Type.String(),
    created_by: Type.Optional(Type.String()),
    event_reference: Type.Optional(Type.String()),
    items: Type.Optional(Type.Array(Type.Object({}, open))),
    error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() }, open)),
    metadata: Type.Optional(Type.Object({}, open)),
    request_headers: Type.Optional(Type.Record(Type.String(), Type.String())),
  },
  open,
);

const TransactionItemSchema = Type.Object(
  { line_id: Type.String(), amount: Type.Integer(), captured_amount: Type.Integer(), refunded_amount: Type.Integer() },
  open,
);

export const TransactionSchema = Type.Object(
  {
    id: Type.String(),
    session_id: Type.String(),
    amount: Type.Integer(),
    currency: Type.String(),
    status: Type.Union(transactionStatuses.map((status) => Type.Literal(status))),
    payment_product: Type.String(),
    payment_product_type: Type.String(),
    merchant_reference: Type.String(),
    merchant_reference_2: Type.Optional(Type.String()),
    customer: Type.Optional(Type.Object({}, open)),
    shipping_address: Type.Optional(Type.Object({}, open)),
    billing_address: Type.Optional(Type.Object({}, open)),
    shipping_option: Type.Optional(Type.Object({}, open)),
    card: Type.Optional(Type.Object({}, open)),
    items: Type.Array(TransactionItemSchema),
    url: Type.Object({ callback_url: Type.Optional(Type.String()), redirect_url: Type.Optional(Type.String()) }, open),
    events: Type.Array(EventSchema),
    metadata: Type.Optional(Type.Object({}, open)),
    initiating_system_request_headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    authorization_expires_at: Type.Union([Type.String(), Type.Null()]),
    captured_amount: Type.Integer(),
    refunded_amount: Type.Integer(),
    voided_amount: Type.Integer(),
    remaining_capture_amount: Type.Integer(),
    remaining_refund_amount: Type.Integer(),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  open,
);

export const SessionSchema = Type.Object(
  {
    id: Type.String(),
    url: Type.Object({}, open),
    order: Type.Object({}, open),
    status: Type.String(),
    transaction_id: Type.Optional(Type.String()),
    events: Type.Array(Type.Object({}, open)),
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  open,
);

const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 10 });
const ManyStrings = Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 });

export const ListTransactionsQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    starting_after: Type.Optional(Type.String({ maxLength: 100 })),
    status: Type.Optional(ManyStrings),
    payment_product: Type.Optional(ManyStrings),
    payment_product_type: Type.Optional(ManyStrings),
    currency: Type.Optional(ManyStrings),
    merchant_reference: Type.Optional(Type.String({ maxLength: 200 })),
    merchant_reference_2: Type.Optional(Type.String({ maxLength: 200 })),
    session_id: Type.Optional(Type.String({ maxLength: 100 })),
    amount: Type.Optional(AmountSchema),
    'amount.gte': Type.Optional(AmountSchema),
    'amount.lte': Type.Optional(AmountSchema),
    'created_at.gte': Type.Optional(Type.String({ format: 'date-time' })),
    'created_at.lte': Type.Optional(Type.String({ format: 'date-time' })),
    search: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const ListSessionsQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    starting_after: Type.Optional(Type.String({ maxLength: 100 })),
    merchant_reference: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const IdParams = Type.Object({ id: Type.String({ maxLength: 100 }) });
export const AccountParams = Type.Object({ aid: Type.String({ maxLength: 20 }) });

export const TokenRequestSchema = Type.Object(
  { grant_type: Type.String({ maxLength: 100 }), audience: Type.Optional(Type.String({ maxLength: 2000 })) },
  open,
);

export const TokenSchema = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
});

export const ErrorSchema = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.Optional(Type.String()), message: Type.String() }))),
    request_id: Type.Optional(Type.String()),
  }),
});

/**
 * Response schemas are for serialisation and documentation; handlers return service
 * views whose types are checked in the service layer, so the map is typed loosely.
 */
export function responses(map: Record<number, unknown>): Record<number, unknown> {
  return map;
}
