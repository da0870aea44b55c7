/** Reading /proc/<pid>/stat (Linux), for the bench sections that measure other processes. */
import { readFileSync } from 'node:fs';

/** What /proc/<pid>/stat counts CPU time in: Linux's USER_HZ, 100 ticks a second. */
export const CLOCK_TICK_MS = 10;

/**
 * The fields of /proc/<pid>/stat from field 3 (the state) on: those after the command name's closing
 * parenthesis (the name may hold one too), so field N is at index N - 3. Undefined if the process is
 * gone or there is no /proc.
 */
export function statFields(pid: number | 'self'): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  } catch {
    return undefined;
  }
}
