// The core's words for states and actions (`in_progress`, `auto_approved`, `signer_added`…)
// put into the reader's language. Each vocabulary is a `Record` of literal catalogue keys, so
// that the catalogue test sees every key; a word this build does not know (a newer core) is
// shown as the core sent it rather than hidden.
import type { TFunction } from 'i18next';
import type { CommandError } from '../api';
import { describeError } from '../errors';

/** The entry for `word`, if the table has one (and not one from Object's prototype). */
function lookup<T extends object>(table: T, word: string): T[keyof T] | undefined {
  return Object.hasOwn(table, word) ? table[word as keyof T] : undefined;
}

const statuses = {
  queued: 'request.status.queued',
  draft: 'request.status.draft',
  in_progress: 'request.status.in_progress',
  returned: 'request.status.returned',
  approved: 'request.status.approved',
  rejected: 'request.status.rejected',
  withdrawn: 'request.status.withdrawn',
} as const;

/** A request's status: "In progress", "审批中"… */
export function statusName(t: TFunction, status: string): string {
  const key = lookup(statuses, status);
  return key === undefined ? status : t(key);
}

const actions = {
  submit: 'request.action.submit',
  approve: 'request.action.approve',
  reject: 'request.action.reject',
  return: 'request.action.return',
  transfer: 'request.action.transfer',
  withdraw: 'request.action.withdraw',
  urge: 'request.action.urge',
  comment: 'request.action.comment',
  resubmit: 'request.action.resubmit',
  rsvp_accept: 'request.action.rsvp_accept',
  rsvp_tentative: 'request.action.rsvp_tentative',
  rsvp_decline: 'request.action.rsvp_decline',
} as const;

/** What an outbox entry does, as a noun phrase: "Approval", "Comment"… */
export function actionName(t: TFunction, action: string): string {
  const key = lookup(actions, action);
  return key === undefined ? action : t(key);
}

const done = {
  submit: 'request.done.submit',
  approve: 'request.done.approve',
  reject: 'request.done.reject',
  return: 'request.done.return',
  transfer: 'request.done.transfer',
  withdraw: 'request.done.withdraw',
  urge: 'request.done.urge',
  comment: 'request.done.comment',
  resubmit: 'request.done.resubmit',
  rsvp_accept: 'request.done.rsvp_accept',
  rsvp_tentative: 'request.done.rsvp_tentative',
  rsvp_decline: 'request.done.rsvp_decline',
} as const;

/** What the person did, as a past participle for "… — waiting to be sent": "Approved". */
export function doneName(t: TFunction, action: string): string {
  const key = lookup(done, action);
  return key === undefined ? action : t(key);
}

const stepKinds = {
  approval: 'request.stepKind.approval',
  cc: 'request.stepKind.cc',
  skipped: 'request.stepKind.skipped',
} as const;

export function stepKindName(t: TFunction, kind: string): string {
  const key = lookup(stepKinds, kind);
  return key === undefined ? kind : t(key);
}

const outcomes = {
  approved: 'request.outcome.approved',
  rejected: 'request.outcome.rejected',
  returned: 'request.outcome.returned',
  auto_approved: 'request.outcome.auto_approved',
  transferred: 'request.outcome.transferred',
  deferred: 'request.outcome.deferred',
  closed: 'request.outcome.closed',
} as const;

/** How a task ended: "Approved", "Handed on"… */
export function outcomeName(t: TFunction, outcome: string): string {
  const key = lookup(outcomes, outcome);
  return key === undefined ? outcome : t(key);
}

const eventKinds = {
  submitted: 'request.event.submitted',
  resubmitted: 'request.event.resubmitted',
  approved: 'request.event.approved',
  auto_approved: 'request.event.auto_approved',
  rejected: 'request.event.rejected',
  returned: 'request.event.returned',
  transferred: 'request.event.transferred',
  signer_added: 'request.event.signer_added',
  withdrawn: 'request.event.withdrawn',
  urged: 'request.event.urged',
  commented: 'request.event.commented',
  step_skipped: 'request.event.step_skipped',
  cc_sent: 'request.event.cc_sent',
  finished: 'request.event.finished',
} as const;

/** What happened in the history, after the actor's name: "approved", "handed it to"… */
export function eventName(t: TFunction, kind: string): string {
  const key = lookup(eventKinds, kind);
  return key === undefined ? kind : t(key);
}

/**
 * Why an action on a request did not go through. A refusal made by the core before any round
 * trip carries the specific reason ("“Trip to Shanghai” has no task pending for you") in its
 * message, which says more than the generic sentence for the code; everything else is put
 * in words by `describeError`.
 */
export function refusalReason(t: TFunction, error: CommandError): string {
  if (error.code === 'refused' && error.message.trim() !== '') return error.message;
  return describeError(t, error);
}
