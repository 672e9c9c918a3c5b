/**
 * V8 flags for the whole process, set by a front end that owns its process (the CLI; never the
 * VS Code extension, whose extension host is shared). Starting a worker thread resets V8's flags,
 * so the engine's workers set them again (seipdStream.ts).
 */
import { setFlagsFromString } from 'node:v8';

let flags = '';

export function setProcessV8Flags(value: string): void {
  flags = value;
  setFlagsFromString(value);
}

/** What setProcessV8Flags was given, for a new worker to set again; empty if nothing. */
export function processV8Flags(): string {
  return flags;
}
