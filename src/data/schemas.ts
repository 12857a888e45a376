/**
 * The declared schemas of the raw sources: each column's type, whether it may
 * be missing, its allowed levels or minimum. prep validates every row against
 * these (src/data/validate.ts); a row that breaks one goes to the rejected
 * file with the reason.
 */
/** The example world's categorical levels: the schema declares them and the generator draws from them. */
export const PLANS = ["basic", "standard", "premium"] as const;
export const REGIONS = ["north", "south", "east", "west", "central"] as const;
export const CONTRACTS = ["monthly", "annual", "two_year"] as const;
export const PAYMENT_METHODS = ["card", "bank_transfer", "paypal", "invoice"] as const;
export const CHANNELS = ["web", "app", "store"] as const;

export type ColumnType = "string" | "integer" | "number" | "date" | "category" | "binary";

export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** a missing value rejects the row (otherwise it is kept as null) */
  required?: boolean;
  /** category: the allowed levels (compared after trimming and lower-casing) */
  levels?: readonly string[];
  /** number/integer: the smallest allowed value */
  min?: number;
}

export interface SourceSchema {
  /** the source's name: rejected_<name>.csv, quality.json sections */
  name: string;
  columns: ColumnSpec[];
  /** rows sharing this key are duplicates: the first valid one is kept */
  key?: string;
}

/** Date columns hold ISO dates, YYYY-MM-DD. */
export const DATE_FORMAT = "%Y-%m-%d";
/** the shape a date must have before it is parsed */
export const DATE_PATTERN = "^\\d{4}-\\d{2}-\\d{2}$";

export function customersSchema(idColumn = "customer_id", target = "churned"): SourceSchema {
  return {
    name: "customers",
    key: idColumn,
    columns: [
      { name: idColumn, type: "string", required: true },
      { name: "signup_date", type: "date", required: true },
      { name: "plan", type: "category", required: true, levels: PLANS },
      { name: "region", type: "category", levels: REGIONS },
      { name: "contract", type: "category", required: true, levels: CONTRACTS },
      { name: "payment_method", type: "category", levels: PAYMENT_METHODS },
      { name: "monthly_charges", type: "number", min: 0 },
      { name: "support_calls", type: "integer", min: 0 },
      { name: target, type: "binary", required: true },
    ],
  };
}

export function transactionsSchema(idColumn = "customer_id"): SourceSchema {
  return {
    name: "transactions",
    key: "transaction_id",
    columns: [
      { name: "transaction_id", type: "string", required: true },
      { name: idColumn, type: "string", required: true },
      { name: "date", type: "date", required: true },
      { name: "amount", type: "number", required: true, min: 0 },
      { name: "channel", type: "category", levels: CHANNELS },
    ],
  };
}
