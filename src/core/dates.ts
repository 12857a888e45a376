/**
 * ISO 8601 dates and date-times as the whole project reads them: a date-time without a zone is UTC
 * (Date.parse would take the machine's local time), and a day its month does not have (2023-02-30) is
 * no date (Date.parse would roll it over to March 2). Training, serving's validation and the feature
 * store's time windows all read a date the same way.
 */

/** ISO 8601 dates and date-times: 2024-03-01, 2024-03-01T10:00, 2024-03-01 10:00:00.5Z, ... */
export const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch milliseconds of ISO 8601 text (trimmed; UTC when no zone is written), or NaN when it is none. */
export function isoDateMs(text: string): number {
  const t = text.trim();
  if (!ISO_DATE.test(t)) return NaN;
  let s = t.replace(" ", "T");
  if (s.length === 10) s += "T00:00:00Z";
  else if (!/(Z|[+-]\d{2}:?\d{2})$/.test(s)) s += "Z";
  const ms = Date.parse(s);
  return ms === ms && Number(t.slice(8, 10)) > daysInMonth(Number(t.slice(0, 4)), Number(t.slice(5, 7)))
    ? NaN
    : ms;
}

/** Whether text is an ISO 8601 date or date-time (as written, untrimmed) of a day the calendar has. */
export function isIsoDate(text: string): boolean {
  return ISO_DATE.test(text) && !Number.isNaN(isoDateMs(text));
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
