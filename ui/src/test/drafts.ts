// Drafts for the form tests, and a stand-in for the core's draft store: `draftSet` puts the
// value at its path (as the core's `set_at` does) and answers with the draft, its computed
// values from the test's own figures, and the errors the test says the core would find.
import type { DraftView, TemplateInfo } from '../api';
import { fakeCommands } from './fakeCommands';
import { commandError, failed, ok } from './fixtures';

/** 10:42 today, in this computer's zone, whatever zone the tests run in. */
export const tenFortyTwo = (() => {
  const at = new Date();
  at.setHours(10, 42, 0, 0);
  return at.toISOString();
})();

export function draftView(template: TemplateInfo, overrides: Partial<DraftView> = {}): DraftView {
  return {
    id: 'draft-1',
    template_id: template.id,
    template_version: template.version,
    title: null,
    form: {},
    computed: {},
    errors: [],
    template_retired: false,
    submitted_as: null,
    resubmits: null,
    updated_at: tenFortyTwo,
    ...overrides,
  };
}

type Form = Record<string, unknown>;

/** `lines[2].amount` → ['lines', 2, 'amount']. */
function steps(path: string): (string | number)[] {
  return path.split('.').flatMap((part) => {
    const match = /^([a-z0-9_]+)(?:\[(\d+)\])?$/.exec(part);
    if (match === null) throw new Error(`bad path ${path}`);
    return match[2] === undefined ? [match[1] ?? ''] : [match[1] ?? '', Number(match[2])];
  });
}

export function setAt(form: Form, path: string, value: unknown): Form {
  const copy = structuredClone(form);
  const route = steps(path);
  let here: Record<string | number, unknown> = copy;
  route.forEach((step, index) => {
    const last = index === route.length - 1;
    if (last) {
      // The core removes a key set to null.
      if (value === null && typeof step === 'string') Reflect.deleteProperty(here, step);
      else here[step] = value;
      return;
    }
    const next = route[index + 1];
    here[step] ??= typeof next === 'number' ? [] : {};
    const inner = here[step] as Record<string | number, unknown> | unknown[];
    if (Array.isArray(inner) && typeof next === 'number') {
      while (inner.length <= next) inner.push({});
    }
    here = inner as Record<string | number, unknown>;
  });
  return copy;
}

export interface DraftStore {
  current: () => DraftView;
  /** Refuse the next value set at this path, as the core does, with this message. */
  refuse: (path: string, message: string) => void;
}

/**
 * Scripts `draft`, `draftSet` and `draftTitle` around one draft. `compute` plays the core's
 * computed fields and `check` its validation, from the form as it stands.
 */
export function draftStore(
  initial: DraftView,
  options: {
    compute?: (form: Form) => unknown;
    check?: (form: Form) => DraftView['errors'];
    /** Each save's time, so "Saved at" can be seen to move. */
    savedAt?: () => string;
  } = {},
): DraftStore {
  let draft = initial;
  const refusals = new Map<string, string>();
  const answer = (form: Form, title = draft.title): DraftView => {
    draft = {
      ...draft,
      form,
      title,
      computed: options.compute?.(form) ?? draft.computed,
      errors: options.check?.(form) ?? draft.errors,
      updated_at: options.savedAt?.() ?? draft.updated_at,
    };
    return draft;
  };
  fakeCommands.draft.mockImplementation(() => Promise.resolve(ok(draft)));
  fakeCommands.draftSet.mockImplementation((_, path, json) => {
    const refusal = refusals.get(path);
    if (refusal !== undefined) {
      refusals.delete(path);
      return Promise.resolve(
        failed(commandError('invalid_input', { message: `${path}: ${refusal} — the draft was not changed.` })),
      );
    }
    return Promise.resolve(ok(answer(setAt(draft.form as Form, path, JSON.parse(json)))));
  });
  fakeCommands.draftTitle.mockImplementation((_, title) =>
    Promise.resolve(ok(answer(draft.form as Form, title.trim() === '' ? null : title.trim()))),
  );
  return {
    current: () => draft,
    refuse: (path, message) => {
      refusals.set(path, message);
    },
  };
}
