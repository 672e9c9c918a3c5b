/**
 * What a command may use: the extension's collaborators, handed to every command by
 * registerCommands (register.ts) rather than reached for as module globals, so a test can swap them.
 */
import type { ArchiveCatalog } from '../archiveCatalog';
import type { Connection } from '../connection';
import type { JobQueue } from '../jobQueue';
import type { Log } from '../log';
import type { ReportDocuments } from '../reportDocuments';
import type { RestorePoller } from '../restorePoller';
import type { VersionCopies } from '../versionCopies';
import type { WantedRestores } from '../wantedRestores';

export interface Services {
  connection: Connection;
  catalog: ArchiveCatalog;
  jobs: JobQueue;
  poller: RestorePoller;
  log: Log;
  /** The engine's local state (last backups, upload journals), as the CLI keeps it in its state folder. */
  stateDir: string;
  /** What each requested restore is for (the paths chosen, the archives they read), until downloaded. */
  wanted: WantedRestores;
  /** Read-only documents for reports (Check Bucket, Show Manifest). */
  reports: ReportDocuments;
  /** Downloaded versions of files, shown read-only (Show Backed-up Versions). */
  versions: VersionCopies;
  revealArchive(id: string): Promise<void>;
}
