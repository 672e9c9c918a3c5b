/**
 * How long a Glacier restore takes, by storage class and tier, as AWS documents it: the one place
 * the CLI's and VS Code's wording ("within 12 hours") and estimates ("expected by …") come from.
 */

export interface RestoreTime {
  /** As said to the user: "within 12 hours", "3–5 hours". */
  text: string;
  /** The most it takes, in hours; what an "expected by" estimate adds to the request time. */
  hours: number;
}

const times: Record<string, Record<string, RestoreTime>> = {
  DEEP_ARCHIVE: {
    Standard: { text: 'within 12 hours', hours: 12 },
    Bulk: { text: 'within 48 hours', hours: 48 },
  },
  GLACIER: {
    Expedited: { text: '1–5 minutes', hours: 0.1 },
    Standard: { text: '3–5 hours', hours: 5 },
    Bulk: { text: '5–12 hours', hours: 12 },
  },
};

/** The restore time of a tier in a storage class; undefined when the class has no such tier (or needs no restore). */
export function restoreTime(storageClass: string, tier: string): RestoreTime | undefined {
  return times[storageClass]?.[tier];
}

/** When a restore requested at `requestedAt` is ready at the latest; undefined for an unknown class or tier. */
export function restoreExpectedBy(storageClass: string, tier: string, requestedAt: Date): Date | undefined {
  const t = restoreTime(storageClass, tier);
  return t === undefined ? undefined : new Date(requestedAt.getTime() + t.hours * 3_600_000);
}
