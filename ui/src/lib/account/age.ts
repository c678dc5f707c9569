// The age gate as the sign-up form applies it (privacy policy §7): the platform checks it again.

/** Parses `YYYY-MM-DD` into its parts, or null when it is not a real calendar date. */
export function parseDate(value: string): { year: number; month: number; day: number } | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
  return { year, month, day };
}

/** Whole years between a date of birth and `today` (local calendar), or null for a bad date. */
export function ageOn(dateOfBirth: string, today: Date = new Date()): number | null {
  const dob = parseDate(dateOfBirth);
  if (!dob) return null;
  const y = today.getFullYear();
  const m = today.getMonth() + 1;
  const d = today.getDate();
  let age = y - dob.year;
  if (m < dob.month || (m === dob.month && d < dob.day)) age -= 1;
  return age;
}

/** Under 18 needs a guardian; under 14 is a child whose data is sensitive personal information. */
export const GUARDIAN_AGE = 18;
export const CHILD_AGE = 14;

/** `YYYY-MM-DD` for the day `years` years before `today` (for tests and examples). */
export function yearsAgo(years: number, today: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${today.getFullYear() - years}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
}
