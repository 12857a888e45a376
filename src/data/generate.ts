/**
 * The example churn world: customers (plan, region, contract, payment method,
 * monthly charges, support calls, signup date, churned) and their transactions
 * over the months before the snapshot date, with the defects real raw data has,
 * at the documented rates in DEFECT_RATES. Deterministic for a seed: one
 * seeded PRNG drives every draw, in a fixed order.
 *
 * Churn depends on behaviour plus noise: a latent engagement drives spending
 * and frequency, contract/support calls/tenure/charges drive the churn odds,
 * most churners' activity fades over their last months (some go quiet, some
 * show nothing), and a few loyal customers dip too. A good model lands around
 * ROC AUC 0.85, not 1.0.
 *
 * transactions.json is a JSON array written in chunks (never one big string),
 * so millions of rows stay practical.
 *
 * labels.csv is the label history: churn observed at monthly cut-offs up to
 * the snapshot date (customer_id, cutoff, churned), one row per customer
 * signed up by the cut-off. The transactions go on past every cut-off, so a
 * training set built from it leaks the future unless each row's features are
 * taken as of its cut-off (the point-in-time join). It is drawn from the true
 * churn flags, without defects, and takes no draws of its own: the other files
 * are the same bytes with or without it.
 */
import { join } from "node:path";
import { atomically, ensureDir, writeJsonAtomic } from "../core/atomic.ts";
import { Rng } from "../core/random.ts";
import { CHANNELS, CONTRACTS, customersSchema, PAYMENT_METHODS, PLANS, REGIONS } from "./schemas.ts";

export type Scenario = "baseline" | "drift";

/** Per-row probabilities of each injected defect (documented in docs/guides/generate.md). */
export const DEFECT_RATES = {
  customers: {
    /** an exact copy of the row appears again later in the file */
    duplicate_row: 0.01,
    missing_monthly_charges: 0.004,
    missing_support_calls: 0.004,
    missing_region: 0.003,
    malformed_signup_date: 0.005,
    unknown_plan: 0.003,
    unknown_region: 0.002,
    negative_monthly_charges: 0.002,
    non_numeric_monthly_charges: 0.002,
    missing_churned: 0.002,
    /** not a defect to reject: " Premium", "BASIC" (prep normalises them) */
    messy_case: 0.01,
  },
  transactions: {
    unknown_customer: 0.005,
    malformed_date: 0.003,
    negative_amount: 0.003,
    non_numeric_amount: 0.002,
    missing_amount: 0.001,
    unknown_channel: 0.002,
  },
} as const;

/** How one scenario's world is drawn; drift changes these (see SCENARIOS). */
export interface WorldParams {
  /** the snapshot date: the last day transactions can have */
  asOf: string;
  idPrefix: string;
  planWeights: number[];
  regionWeights: number[];
  contractWeights: number[];
  paymentWeights: number[];
  channelWeights: number[];
  /** multiplies every monthly charge */
  chargeFactor: number;
  /** multiplies support-call means */
  supportFactor: number;
  /** multiplies transaction amounts */
  amountFactor: number;
  /** multiplies transaction frequency */
  frequencyFactor: number;
  /** added to the churn log-odds */
  churnShift: number;
}

export const SCENARIOS: Record<Scenario, WorldParams> = {
  baseline: {
    asOf: "2024-12-31",
    idPrefix: "C",
    planWeights: [0.45, 0.35, 0.2],
    regionWeights: [0.22, 0.2, 0.2, 0.18, 0.2],
    contractWeights: [0.5, 0.3, 0.2],
    paymentWeights: [0.4, 0.25, 0.2, 0.15],
    channelWeights: [0.5, 0.3, 0.2],
    chargeFactor: 1,
    supportFactor: 1,
    amountFactor: 1,
    frequencyFactor: 1,
    churnShift: 0,
  },
  /**
   * A later production batch (new customers, one year on): a price rise (+15%
   * monthly charges), more support calls (x1.6), a shift to the basic plan and
   * the west region, smaller baskets (-20% amounts), fewer visits (-15%), the
   * app channel taking over from the store, and a higher churn rate.
   */
  drift: {
    asOf: "2025-12-31",
    idPrefix: "D",
    planWeights: [0.6, 0.28, 0.12],
    regionWeights: [0.15, 0.15, 0.15, 0.4, 0.15],
    contractWeights: [0.6, 0.25, 0.15],
    paymentWeights: [0.35, 0.2, 0.3, 0.15],
    channelWeights: [0.35, 0.55, 0.1],
    chargeFactor: 1.15,
    supportFactor: 1.6,
    amountFactor: 0.8,
    frequencyFactor: 0.85,
    churnShift: 0.35,
  },
};

export interface GenerateOptions {
  customers: number;
  seed: number;
  /** months of transaction history before the snapshot date */
  months: number;
  scenario: Scenario;
  /** monthly cut-offs of the label history (labels.csv); 0: no label history (default 0) */
  labelCutoffs?: number;
  /** the directory that receives customers.csv, transactions.json, labels.csv and generation.json */
  outDir: string;
  onProgress?: (customersDone: number, total: number) => void;
}

export interface GenerateResult {
  scenario: Scenario;
  seed: number;
  out_dir: string;
  files: { customers: string; transactions: string; manifest: string; labels?: string };
  as_of: string;
  window_start: string;
  customers: number;
  customer_rows: number;
  transactions: number;
  churn_rate: number;
  /** the label history: its cut-offs (YYYY-MM-DD, oldest first) and rows */
  labels?: { cutoffs: string[]; rows: number; positive_rate: number };
  /** injected defects, by kind: what prep should find */
  defects: { customers: Record<string, number>; transactions: Record<string, number> };
}

const DAY_MS = 86_400_000;
const PLAN_CHARGE = { basic: 25, standard: 55, premium: 95 } as const;
const PLAN_RATE = { basic: 4.1, standard: 5.0, premium: 6.0 } as const;
const PLAN_AMOUNT = { basic: 18, standard: 26, premium: 38 } as const;
const TENURE_MEAN = { monthly: 14, annual: 34, two_year: 52 } as const;
const MALFORMED_DATES = ["2023/05/17", "17-05-2023", "2023-02-30", "yesterday", "2023-13-01", "20230517"];
const NON_NUMERIC = ["12,50", "abc", "ten", "$40", "1.2.3"];

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Adds whole months to a UTC date (clamped to the month's last day). */
function addMonths(ms: number, months: number): number {
  const d = new Date(ms);
  const y = d.getUTCFullYear(), m = d.getUTCMonth() + months, day = d.getUTCDate();
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Date.UTC(y, m, Math.min(day, last));
}

function csvCell(v: string | number | null): string {
  if (v === null) return "";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const round2 = (x: number) => Math.round(x * 100) / 100;

class ChunkWriter {
  private parts: string[] = [];
  private size = 0;
  private readonly enc = new TextEncoder();
  constructor(private readonly file: Deno.FsFile, private readonly chunkChars = 1 << 20) {}
  push(s: string): void {
    this.parts.push(s);
    this.size += s.length;
    if (this.size >= this.chunkChars) this.flush();
  }
  flush(): void {
    if (this.parts.length === 0) return;
    const bytes = this.enc.encode(this.parts.join(""));
    let off = 0;
    while (off < bytes.length) off += this.file.writeSync(bytes.subarray(off));
    this.parts = [];
    this.size = 0;
  }
}

interface CustomerRow {
  id: string;
  cells: (string | number | null)[];
}

/** Writes the world; returns what was written, with the injected defect counts. */
export function generateWorld(opts: GenerateOptions): GenerateResult {
  const world = SCENARIOS[opts.scenario];
  const rng = new Rng(opts.seed * 2 + (opts.scenario === "drift" ? 1 : 0));
  const asOfMs = Date.parse(world.asOf + "T00:00:00Z");
  const windowStartMs = addMonths(asOfMs, -opts.months) + DAY_MS;
  const custDefects: Record<string, number> = {};
  const txnDefects: Record<string, number> = {};
  const bump = (o: Record<string, number>, k: string) => (o[k] = (o[k] ?? 0) + 1);
  const CR = DEFECT_RATES.customers, TR = DEFECT_RATES.transactions;

  ensureDir(opts.outDir);
  const customersPath = join(opts.outDir, "customers.csv");
  const transactionsPath = join(opts.outDir, "transactions.json");
  const manifestPath = join(opts.outDir, "generation.json");

  // the raw file has the columns the prep stage validates, in the same order
  const header = customersSchema().columns.map((c) => c.name);
  const customerRows: CustomerRow[] = [];
  // the truth the label history is drawn from: signup time and churn flag, before any defect
  const truth: { id: string; signupMs: number; churned: number }[] = [];
  let churners = 0, txnCount = 0, txnId = 0;
  const pad = Math.max(7, String(opts.customers).length);

  atomically(transactionsPath, (tmp) => {
    const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    const out = new ChunkWriter(file);
    let first = true;
    out.push("[\n");
    const emit = (
      customerId: string,
      dateMs: number,
      amount: number,
      channel: string,
    ) => {
      txnId++;
      let cid: string = customerId;
      let date: string = isoDate(dateMs);
      let amt: number | string | null = amount;
      let ch: string = channel;
      const r = rng.next();
      let acc = 0;
      if (r < (acc += TR.unknown_customer)) {
        cid = `X${String(rng.int(1e8)).padStart(8, "0")}`;
        bump(txnDefects, "unknown_customer");
      } else if (r < (acc += TR.malformed_date)) {
        date = rng.pick(MALFORMED_DATES);
        bump(txnDefects, "malformed_date");
      } else if (r < (acc += TR.negative_amount)) {
        amt = -amount;
        bump(txnDefects, "negative_amount");
      } else if (r < (acc += TR.non_numeric_amount)) {
        amt = rng.pick(NON_NUMERIC);
        bump(txnDefects, "non_numeric_amount");
      } else if (r < (acc += TR.missing_amount)) {
        amt = null;
        bump(txnDefects, "missing_amount");
      } else if (r < (acc += TR.unknown_channel)) {
        ch = rng.pick(["fax", "kiosk", "phone"]);
        bump(txnDefects, "unknown_channel");
      }
      const amountJson = typeof amt === "string" ? JSON.stringify(amt) : amt === null ? "null" : String(amt);
      out.push(
        `${first ? "" : ",\n"}{"transaction_id":"T${txnId}","customer_id":"${cid}","date":"${date}",` +
          `"amount":${amountJson},"channel":"${ch}"}`,
      );
      first = false;
      txnCount++;
    };

    for (let i = 0; i < opts.customers; i++) {
      const id = `${world.idPrefix}${String(i + 1).padStart(pad, "0")}`;
      const plan = rng.pick(PLANS, world.planWeights);
      const region = rng.pick(REGIONS, world.regionWeights);
      const contract = rng.pick(CONTRACTS, world.contractWeights);
      const payment = rng.pick(PAYMENT_METHODS, world.paymentWeights);
      const engagement = rng.normal();
      const tenureMonths = Math.min(120, rng.exponential(TENURE_MEAN[contract]) + 0.5);
      const signupMs = asOfMs - Math.round(tenureMonths * 30.4375) * DAY_MS;
      const charges = round2(
        PLAN_CHARGE[plan] * world.chargeFactor * Math.max(0.5, rng.normal(1, 0.12)),
      );
      const supportMean = world.supportFactor * (0.7 + 0.6 * Math.max(0, -engagement) +
        (plan === "basic" ? 0.3 : 0));
      const supportCalls = rng.poisson(supportMean);
      const z = -1.7 + world.churnShift +
        1.3 * (contract === "monthly" ? 1 : 0) - 0.7 * (contract === "two_year" ? 1 : 0) +
        0.35 * supportCalls - 0.45 * engagement - 0.025 * Math.min(tenureMonths, 60) +
        0.015 * (charges - 50) + 0.35 * (payment === "invoice" ? 1 : 0) + rng.normal(0, 0.9);
      const churned = rng.chance(sigmoid(z)) ? 1 : 0;
      churners += churned;
      truth.push({ id, signupMs, churned });

      // behaviour: monthly visits, fading for most churners before they leave
      const baseRate = PLAN_RATE[plan] * world.frequencyFactor * Math.exp(0.45 * engagement);
      const amountMean = PLAN_AMOUNT[plan] * world.amountFactor * Math.exp(0.15 * engagement);
      const fadeKind = churned ? rng.pick(["fade", "stop", "none"], [0.55, 0.15, 0.3]) : "none";
      const fadeMonths = 1 + rng.int(5);
      const fadeFactor = rng.uniform(0.35, 0.8);
      const loyalDip = !churned && rng.chance(0.12);
      const dipMonth = opts.months - 1 - rng.int(4);
      for (let m = 0; m < opts.months; m++) {
        const monthStart = addMonths(windowStartMs, m);
        const monthEnd = Math.min(addMonths(windowStartMs, m + 1), asOfMs + DAY_MS);
        const from = Math.max(monthStart, signupMs);
        if (from >= monthEnd) continue;
        const share = (monthEnd - from) / (monthEnd - monthStart);
        let rate = baseRate * share * Math.exp(rng.normal(0, 0.25));
        const monthsLeft = opts.months - m;
        if (fadeKind === "fade" && monthsLeft <= fadeMonths) {
          rate *= Math.pow(fadeFactor, fadeMonths - monthsLeft + 1);
        } else if (fadeKind === "stop" && monthsLeft <= fadeMonths) rate = 0;
        if (loyalDip && m === dipMonth) rate *= 0.4;
        const n = rng.poisson(rate);
        for (let k = 0; k < n; k++) {
          const day = from + Math.floor(rng.next() * ((monthEnd - from) / DAY_MS)) * DAY_MS;
          const amount = round2(Math.max(0.5, amountMean * Math.exp(rng.normal(-0.1, 0.45))));
          emit(id, day, amount, rng.pick(CHANNELS, world.channelWeights));
        }
      }

      // the customer row, with its defects
      const cells: (string | number | null)[] = [
        id,
        isoDate(signupMs),
        plan,
        region,
        contract,
        payment,
        charges,
        supportCalls,
        churned,
      ];
      const r = rng.next();
      let acc = 0;
      const set = (col: number, v: string | number | null, kind: string) => {
        cells[col] = v;
        bump(custDefects, kind);
      };
      if (r < (acc += CR.missing_monthly_charges)) set(6, null, "missing_monthly_charges");
      else if (r < (acc += CR.missing_support_calls)) set(7, null, "missing_support_calls");
      else if (r < (acc += CR.missing_region)) set(3, null, "missing_region");
      else if (r < (acc += CR.malformed_signup_date)) {
        set(1, rng.pick(MALFORMED_DATES), "malformed_signup_date");
      } else if (r < (acc += CR.unknown_plan)) {
        set(2, rng.pick(["platinum", "gold", "trial"]), "unknown_plan");
      } else if (r < (acc += CR.unknown_region)) set(3, rng.pick(["atlantis", "mars"]), "unknown_region");
      else if (r < (acc += CR.negative_monthly_charges)) set(6, -charges, "negative_monthly_charges");
      else if (r < (acc += CR.non_numeric_monthly_charges)) {
        set(6, rng.pick(NON_NUMERIC), "non_numeric_monthly_charges");
      } else if (r < (acc += CR.missing_churned)) set(8, null, "missing_churned");
      else if (r < (acc += CR.messy_case)) {
        set(
          2,
          rng.chance(0.5) ? ` ${plan[0].toUpperCase()}${plan.slice(1)}` : plan.toUpperCase(),
          "messy_case",
        );
      }
      customerRows.push({ id, cells });
      if (rng.chance(CR.duplicate_row)) {
        // the copy lands a little later in the file, as re-exported rows do
        customerRows.push({ id, cells: [...cells] });
        bump(custDefects, "duplicate_row");
      }
      if (opts.onProgress && (i + 1) % 10_000 === 0) opts.onProgress(i + 1, opts.customers);
    }
    out.push("\n]\n");
    out.flush();
    file.close();
  });

  // duplicates move a few rows down so they are not adjacent
  for (let i = customerRows.length - 1; i > 0; i--) {
    if (i > 0 && customerRows[i].id === customerRows[i - 1].id) {
      const j = Math.min(customerRows.length - 1, i + 1 + rng.int(20));
      const [dup] = customerRows.splice(i, 1);
      customerRows.splice(j, 0, dup);
    }
  }
  atomically(customersPath, (tmp) => {
    const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    const out = new ChunkWriter(file);
    out.push(header.join(",") + "\n");
    for (const row of customerRows) out.push(row.cells.map(csvCell).join(",") + "\n");
    out.flush();
    file.close();
  });

  const labels = opts.labelCutoffs
    ? writeLabels(join(opts.outDir, LABELS_FILE), truth, asOfMs, Math.min(opts.labelCutoffs, opts.months))
    : undefined;

  const result: GenerateResult = {
    scenario: opts.scenario,
    seed: opts.seed,
    out_dir: opts.outDir,
    files: {
      customers: customersPath,
      transactions: transactionsPath,
      manifest: manifestPath,
      ...(labels ? { labels: labels.path } : {}),
    },
    as_of: world.asOf,
    window_start: isoDate(windowStartMs),
    customers: opts.customers,
    customer_rows: customerRows.length,
    transactions: txnCount,
    churn_rate: opts.customers ? churners / opts.customers : 0,
    ...(labels
      ? { labels: { cutoffs: labels.cutoffs, rows: labels.rows, positive_rate: labels.positiveRate } }
      : {}),
    defects: { customers: custDefects, transactions: txnDefects },
  };
  writeJsonAtomic(manifestPath, result);
  return result;
}

export const LABELS_FILE = "labels.csv";

/** The label history's cut-offs: the snapshot date and the same day of the `n - 1` months before, oldest first. */
export function labelCutoffs(asOf: string, n: number): string[] {
  const asOfMs = Date.parse(asOf + "T00:00:00Z");
  return Array.from({ length: n }, (_, i) => isoDate(addMonths(asOfMs, -(n - 1 - i))));
}

/**
 * labels.csv: for each cut-off (oldest first), every customer signed up by
 * then, with whether they churn by the snapshot date (the world's churners
 * all leave at its end: a row says whether the customer, active at the
 * cut-off, leaves within the rest of the window; at the last cut-off, the
 * snapshot itself, it is customers.csv's churned).
 */
function writeLabels(
  path: string,
  truth: { id: string; signupMs: number; churned: number }[],
  asOfMs: number,
  n: number,
): { path: string; cutoffs: string[]; rows: number; positiveRate: number } {
  const cutoffs = labelCutoffs(isoDate(asOfMs), Math.max(0, n));
  let rows = 0, positive = 0;
  atomically(path, (tmp) => {
    const file = Deno.openSync(tmp, { write: true, create: true, truncate: true });
    const out = new ChunkWriter(file);
    out.push("customer_id,cutoff,churned\n");
    for (const c of cutoffs) {
      const cMs = Date.parse(c + "T00:00:00Z");
      for (const t of truth) {
        if (t.signupMs > cMs) continue;
        out.push(`${t.id},${c},${t.churned}\n`);
        rows++;
        positive += t.churned;
      }
    }
    out.flush();
    file.close();
  });
  return { path, cutoffs, rows, positiveRate: rows ? positive / rows : 0 };
}

/**
 * `--if-missing` on raw data written before the label history existed: the
 * world is generated again into a scratch folder beside it, and its labels.csv
 * is moved in only when the customers and transactions there are byte for byte
 * the ones present (the same generator, seed and size). Raw data of one's own
 * is never given labels it does not have.
 */
export function addMissingLabels(
  opts: Omit<GenerateOptions, "onProgress"> & { labelCutoffs: number },
): { path?: string; note: string } {
  const scratch = Deno.makeTempDirSync({ dir: opts.outDir, prefix: ".labels-" });
  try {
    const r = generateWorld({ ...opts, outDir: scratch });
    const same = (f: string) => {
      try {
        const a = Deno.readFileSync(join(scratch, f)), b = Deno.readFileSync(join(opts.outDir, f));
        return a.length === b.length && a.every((x, i) => x === b[i]);
      } catch {
        return false;
      }
    };
    if (!same("customers.csv") || !same("transactions.json")) {
      return {
        note: `${opts.outDir} has raw data this generator (seed ${opts.seed}, ${opts.customers} customers, ` +
          `${opts.months} months) did not write: no label history added`,
      };
    }
    const path = join(opts.outDir, LABELS_FILE);
    Deno.renameSync(r.files.labels!, path);
    return { path, note: `${opts.outDir} already holds the raw data; added its label history ${path}` };
  } finally {
    Deno.removeSync(scratch, { recursive: true });
  }
}
