// The steps of this page's start, timed (milliseconds since the page began loading, the
// clock of `performance.now()`). The inbox's first paint sends them to the core's log with
// the time since the process started, so that a slow cold start says which step was slow:
// loading the page, the script, the core's first answers, the first page of the list, React's
// render of it, the browser's style and layout, or its paint.
import type { StartMarks } from './bindings';

/** Runs when the bundle is loaded: `main.tsx` imports this module first. */
const marks: StartMarks = {
  page_origin: performance.timeOrigin,
  script: performance.now(),
  preferences: null,
  session: null,
  list_sent: null,
  list_answered: null,
  rendered: null,
  laid_out: null,
  painted: null,
};

type Step = 'preferences' | 'session' | 'list_sent' | 'list_answered' | 'rendered' | 'laid_out';

/** Notes that a step of the start happened now; only its first time counts. */
export function markStart(step: Step): void {
  marks[step] ??= performance.now();
}

/** The steps so far, with the paint that ends the start now. */
export function startMarksPainted(): StartMarks {
  return { ...marks, painted: performance.now() };
}
