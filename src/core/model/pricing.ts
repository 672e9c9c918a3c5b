/**
 * What storage and retrieval cost, from AWS's list prices, and when an object may be deleted
 * without an early-deletion fee. Pure functions, shared by the CLI, the jobs and VS Code.
 */
/** Deep Archive list prices in us-east-1 (USD): storage per GB-month, retrieval per GB by tier. */
export const prices = {
  storagePerGbMonth: { DEEP_ARCHIVE: 0.00099, GLACIER: 0.0036, GLACIER_IR: 0.004, STANDARD_IA: 0.0125, STANDARD: 0.023 } as Record<string, number>,
  minimumDays: { DEEP_ARCHIVE: 180, GLACIER: 90, GLACIER_IR: 90, STANDARD_IA: 30 } as Record<string, number>,
  retrievalPerGb: {
    DEEP_ARCHIVE: { Standard: 0.02, Bulk: 0.0025 },
    GLACIER: { Expedited: 0.03, Standard: 0.01, Bulk: 0 },
  } as Record<string, Record<string, number>>,
  /** What a retrieval request costs per 1,000 requests, by tier. */
  requestPer1000: {
    DEEP_ARCHIVE: { Standard: 0.1, Bulk: 0.025 },
    GLACIER: { Expedited: 10, Standard: 0.05, Bulk: 0.025 },
  } as Record<string, Record<string, number>>,
  transferOutPerGb: 0.09,
};

const GB = 1024 ** 3;

export function monthlyCost(bytes: number, storageClass = 'DEEP_ARCHIVE'): number {
  return (bytes / GB) * (prices.storagePerGbMonth[storageClass] ?? prices.storagePerGbMonth.STANDARD!);
}

/** The fee for deleting now: the storage of the days left in the class's minimum, charged pro rata. */
export function earlyDeletionFee(bytes: number, storageClass: string, uploaded: Date | undefined, now = new Date()): number {
  const minimum = prices.minimumDays[storageClass];
  if (!minimum || !uploaded) return 0;
  const ageDays = (now.getTime() - uploaded.getTime()) / 86_400_000;
  const daysLeft = Math.max(0, minimum - ageDays);
  return (monthlyCost(bytes, storageClass) / 30) * daysLeft;
}

export function retrievalCost(bytes: number, storageClass: string, tier: string): number {
  const perGb = prices.retrievalPerGb[storageClass]?.[tier] ?? 0;
  const request = (prices.requestPer1000[storageClass]?.[tier] ?? 0) / 1000;
  return (bytes / GB) * perGb + request;
}

export function dollars(amount: number): string {
  if (amount === 0) return '$0';
  if (amount < 0.01) return '< $0.01';
  return `$${amount.toFixed(2)}`;
}

const dayMs = 86_400_000;

/**
 * When the class's minimum storage duration ends for an object uploaded at `uploaded`: deleting
 * it before then is billed as if it had stayed until then. Undefined for a class without a minimum.
 */
export function minimumEnds(storageClass: string, uploaded: Date): Date | undefined {
  const minimum = prices.minimumDays[storageClass];
  return minimum ? new Date(uploaded.getTime() + minimum * dayMs) : undefined;
}

const classNames: Record<string, string> = {
  DEEP_ARCHIVE: 'Deep Archive',
  GLACIER: 'Glacier Flexible Retrieval',
  GLACIER_IR: 'Glacier Instant Retrieval',
  STANDARD_IA: 'Standard-IA',
  STANDARD: 'Standard',
};

/** The storage class as the S3 console names it. */
export function className(storageClass: string): string {
  return classNames[storageClass] ?? storageClass;
}
