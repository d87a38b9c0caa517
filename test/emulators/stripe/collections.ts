/**
 * The collections the emulator serves, one table row each: id prefix, object name, event names, what DELETE
 * means, default fields and the list filters Stripe documents for that list endpoint. Adding a collection is
 * adding a row.
 */
import { invalidValue, type StripeHttpError } from "./errors.js";

export type JsonObject = Record<string, unknown>;

export interface CollectionSpec {
  object: string;
  prefix: string;
  /** Customers and products have short ids (`cus_NffrFeUfNV2Hib`), most others 24 characters. */
  idLength: number;
  /** Event name prefix (`customer.subscription`); null for objects whose changes Stripe sends no events for. */
  eventPrefix: string | null;
  /** Charges have no `charge.created`: their first event names the outcome. */
  createdEvent?: (object: JsonObject) => string;
  /**
   * What a delete does. `tombstone`: gone from lists, retrieve answers `{id, object, deleted: true}` (customers,
   * https://docs.stripe.com/api/customers/retrieve). `gone`: retrieve answers resource_missing. `cancel`: the
   * object stays, with the changes `cancel` returns, and the `.deleted` event is sent (subscriptions).
   * `none`: the API has no delete for it.
   */
  deletion: "tombstone" | "gone" | "cancel" | "none";
  cancel?: (now: number) => JsonObject;
  /** Products carry `updated`, bumped on every change. */
  hasUpdated?: boolean;
  hasMetadata: boolean;
  defaults: (now: number) => JsonObject;
  /** List parameters that filter on the field of the same name. */
  filters: string[];
  /** Rows a list leaves out unless asked, or a refusal of the parameter. */
  listFilter?: (object: JsonObject, query: Map<string, string[]>) => boolean | StripeHttpError;
}

const SUBSCRIPTION_STATUSES = [
  "active",
  "past_due",
  "unpaid",
  "canceled",
  "incomplete",
  "incomplete_expired",
  "trialing",
  "paused",
];

/** Subscriptions lists hide canceled ones unless `status=all` (or `canceled`, `ended`) is asked for. */
function subscriptionStatusFilter(
  object: JsonObject,
  query: Map<string, string[]>,
): boolean | StripeHttpError {
  const status = query.get("status")?.[0];
  if (status === undefined) return object.status !== "canceled";
  if (status === "all") return true;
  if (status === "ended") return object.status === "canceled" || object.status === "incomplete_expired";
  if (SUBSCRIPTION_STATUSES.includes(status)) return object.status === status;
  return invalidValue(
    "status",
    `Invalid status: must be one of ${[...SUBSCRIPTION_STATUSES, "all"].join(", ")}, or ended`,
  );
}

export const COLLECTIONS = {
  customers: {
    object: "customer",
    prefix: "cus_",
    idLength: 14,
    eventPrefix: "customer",
    deletion: "tombstone",
    hasMetadata: true,
    filters: ["email", "test_clock"],
    defaults: () => ({
      address: null,
      balance: 0,
      currency: null,
      default_source: null,
      delinquent: false,
      description: null,
      discount: null,
      email: null,
      invoice_settings: {
        custom_fields: null,
        default_payment_method: null,
        footer: null,
        rendering_options: null,
      },
      name: null,
      phone: null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: "none",
      test_clock: null,
    }),
  },
  products: {
    object: "product",
    prefix: "prod_",
    idLength: 14,
    eventPrefix: "product",
    deletion: "gone",
    hasUpdated: true,
    hasMetadata: true,
    filters: ["active", "shippable", "url"],
    defaults: () => ({
      active: true,
      default_price: null,
      description: null,
      images: [],
      marketing_features: [],
      name: "Product",
      package_dimensions: null,
      shippable: null,
      statement_descriptor: null,
      tax_code: null,
      unit_label: null,
      url: null,
    }),
  },
  prices: {
    object: "price",
    prefix: "price_",
    idLength: 24,
    eventPrefix: "price",
    deletion: "none",
    hasMetadata: true,
    filters: ["active", "currency", "product", "type"],
    defaults: () => ({
      active: true,
      billing_scheme: "per_unit",
      currency: "usd",
      custom_unit_amount: null,
      lookup_key: null,
      nickname: null,
      product: null,
      recurring: null,
      tax_behavior: "unspecified",
      tiers_mode: null,
      transform_quantity: null,
      type: "one_time",
      unit_amount: 1000,
      unit_amount_decimal: "1000",
    }),
  },
  invoices: {
    object: "invoice",
    prefix: "in_",
    idLength: 24,
    eventPrefix: "invoice",
    deletion: "gone",
    hasMetadata: true,
    filters: ["customer", "status", "subscription", "collection_method"],
    defaults: () => ({
      account_country: "US",
      amount_due: 0,
      amount_paid: 0,
      amount_remaining: 0,
      attempt_count: 0,
      attempted: false,
      auto_advance: false,
      billing_reason: "manual",
      collection_method: "charge_automatically",
      currency: "usd",
      customer: null,
      description: null,
      due_date: null,
      number: null,
      status: "draft",
      subscription: null,
      subtotal: 0,
      total: 0,
    }),
  },
  subscriptions: {
    object: "subscription",
    prefix: "sub_",
    idLength: 24,
    eventPrefix: "customer.subscription",
    deletion: "cancel",
    cancel: (now) => ({ status: "canceled", canceled_at: now, ended_at: now }),
    hasMetadata: true,
    filters: ["customer", "collection_method"],
    listFilter: subscriptionStatusFilter,
    defaults: (now) => ({
      billing_cycle_anchor: now,
      cancel_at: null,
      cancel_at_period_end: false,
      canceled_at: null,
      collection_method: "charge_automatically",
      currency: "usd",
      customer: null,
      default_payment_method: null,
      ended_at: null,
      latest_invoice: null,
      start_date: now,
      status: "active",
      trial_end: null,
      trial_start: null,
    }),
  },
  charges: {
    object: "charge",
    prefix: "ch_",
    idLength: 24,
    eventPrefix: "charge",
    createdEvent: (object) => `charge.${String(object.status)}`,
    deletion: "none",
    hasMetadata: true,
    filters: ["customer", "payment_intent", "transfer_group"],
    defaults: () => ({
      amount: 1000,
      amount_captured: 1000,
      amount_refunded: 0,
      balance_transaction: null,
      captured: true,
      currency: "usd",
      customer: null,
      description: null,
      disputed: false,
      failure_code: null,
      failure_message: null,
      paid: true,
      payment_intent: null,
      refunded: false,
      status: "succeeded",
      transfer_group: null,
    }),
  },
  payment_intents: {
    object: "payment_intent",
    prefix: "pi_",
    idLength: 24,
    eventPrefix: "payment_intent",
    deletion: "none",
    hasMetadata: true,
    filters: ["customer"],
    defaults: () => ({
      amount: 1000,
      amount_capturable: 0,
      amount_received: 0,
      capture_method: "automatic",
      confirmation_method: "automatic",
      currency: "usd",
      customer: null,
      description: null,
      last_payment_error: null,
      latest_charge: null,
      payment_method: null,
      payment_method_types: ["card"],
      status: "requires_payment_method",
    }),
  },
  refunds: {
    object: "refund",
    prefix: "re_",
    idLength: 24,
    eventPrefix: "refund",
    deletion: "none",
    hasMetadata: true,
    filters: ["charge", "payment_intent"],
    defaults: () => ({
      amount: 1000,
      charge: null,
      currency: "usd",
      payment_intent: null,
      reason: null,
      status: "succeeded",
    }),
  },
  invoiceitems: {
    object: "invoiceitem",
    prefix: "ii_",
    idLength: 24,
    eventPrefix: "invoiceitem",
    deletion: "gone",
    hasMetadata: true,
    filters: ["customer", "invoice"],
    defaults: () => ({
      amount: 0,
      currency: "usd",
      customer: null,
      description: null,
      invoice: null,
      quantity: 1,
    }),
  },
  setup_intents: {
    object: "setup_intent",
    prefix: "seti_",
    idLength: 24,
    eventPrefix: "setup_intent",
    deletion: "none",
    hasMetadata: true,
    filters: ["customer", "payment_method"],
    defaults: () => ({
      customer: null,
      payment_method: null,
      status: "requires_payment_method",
      usage: "off_session",
    }),
  },
  /** Stripe sends no events for balance transactions: only a list sweep sees them. */
  balance_transactions: {
    object: "balance_transaction",
    prefix: "txn_",
    idLength: 24,
    eventPrefix: null,
    deletion: "none",
    hasMetadata: false,
    filters: ["type", "source", "payout", "currency"],
    defaults: (now) => ({
      amount: 0,
      available_on: now,
      currency: "usd",
      description: null,
      fee: 0,
      fee_details: [],
      net: 0,
      reporting_category: "charge",
      source: null,
      status: "available",
      type: "charge",
    }),
  },
} satisfies Record<string, CollectionSpec>;

export type CollectionName = keyof typeof COLLECTIONS;

export function collectionSpec(name: string): CollectionSpec | undefined {
  return Object.hasOwn(COLLECTIONS, name) ? (COLLECTIONS as Record<string, CollectionSpec>)[name] : undefined;
}
