/** What a command that talks to no store gets: its options, the environment, and its two outputs. */
import type { Options } from './options';

export interface CommandIo {
  options: Options;
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
}
