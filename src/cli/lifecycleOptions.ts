/** The options of the lifecycle commands (delete, prune, freshness), merged into the CLI's option spec. */
export const lifecycleOptions = {
  yes: { type: 'boolean', short: 'y' },
  'keep-last': { type: 'string' },
  'keep-hourly': { type: 'string' },
  'keep-daily': { type: 'string' },
  'keep-weekly': { type: 'string' },
  'keep-monthly': { type: 'string' },
  'keep-yearly': { type: 'string' },
  'keep-within': { type: 'string' },
  'dry-run': { type: 'boolean', short: 'n' },
  'allow-early-deletion': { type: 'boolean' },
  host: { type: 'string' },
  path: { type: 'string', multiple: true },
  'max-age': { type: 'string' },
} as const;
