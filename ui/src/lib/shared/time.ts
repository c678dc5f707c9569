// Human times for lists: "3 minutes ago" for recent changes, a date beyond a week.
//
// Formatters are cached per locale and options: building an `Intl` formatter loads locale data
// and costs far more than formatting with it, and a list of 1,000 agents used to build two per
// row (issue 8: caching them alone took ~70 MiB off the start-up memory).
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 7],
];

const RELATIVE: Intl.RelativeTimeFormatOptions = { numeric: "auto" };
const ABSOLUTE: Intl.DateTimeFormatOptions = { dateStyle: "medium", timeStyle: "short" };

const formatters = new Map<string, Intl.RelativeTimeFormat | Intl.DateTimeFormat | Intl.NumberFormat>();

/** The formatter `make` builds for `locale` and `options`, built once and then reused. */
function cached<F extends Intl.RelativeTimeFormat | Intl.DateTimeFormat | Intl.NumberFormat>(
  kind: string,
  locale: string,
  options: object,
  make: () => F,
): F {
  const key = `${kind}\u0000${locale}\u0000${JSON.stringify(options)}`;
  let formatter = formatters.get(key) as F | undefined;
  if (!formatter) {
    formatter = make();
    formatters.set(key, formatter);
  }
  return formatter;
}

export function relativeTimeFormat(locale: string, options: Intl.RelativeTimeFormatOptions = RELATIVE) {
  return cached("relative", locale, options, () => new Intl.RelativeTimeFormat(locale, options));
}

export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions = ABSOLUTE) {
  return cached("datetime", locale, options, () => new Intl.DateTimeFormat(locale, options));
}

export function numberFormat(locale: string, options: Intl.NumberFormatOptions = {}) {
  return cached("number", locale, options, () => new Intl.NumberFormat(locale, options));
}

export function relativeTime(iso: string, locale: string, now: number = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  let delta = (then - now) / 1000;
  const rtf = relativeTimeFormat(locale);
  for (const [unit, size] of UNITS) {
    if (Math.abs(delta) < size) return rtf.format(Math.round(delta), unit);
    delta /= size;
  }
  return absoluteTime(iso, locale);
}

export function absoluteTime(iso: string, locale: string): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return iso;
  return dateTimeFormat(locale).format(then);
}
