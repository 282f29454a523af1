// The one door from the screens to the Rust core. Everything else imports commands and types
// from here, never from `./bindings`, so that regenerating the bindings touches one file.
//
// It also gives every command a single failure shape: the generated bindings throw when the
// IPC call itself fails (or when the page runs outside Tauri) and pass through whatever the
// core rejected with, which for a Tauri-level failure is a bare string. Screens only ever see
// a well-formed `CommandError`.
import { commands } from './bindings';
import { markStart, startMarksPainted } from './startMarks';
import type {
  AboutInfo,
  AppSettings,
  DirectoryEntry,
  DirectoryQuery,
  ImportedInvitation,
  MeetingChange,
  MeetingCoverageView,
  MeetingDetail,
  MeetingEntry,
  MeetingForm,
  ProblemReport,
  RoomView,
  Rsvp,
  SessionInfo,
  TemplateInfo,
} from './bindings';
import type {
  Act,
  AttachOutcome,
  AttachmentState,
  BulkOutcome,
  OpenRequest,
  ClientError,
  ClientErrorCode,
  DraftView,
  InboxPage,
  InboxQuery,
  LanguagePreference,
  MyRequestsPage,
  MyRequestsQuery,
  OutboxItem,
  Preferences,
  RequestDetail,
  SessionView,
  SyncStatus,
} from './bindings';

export type {
  DepartmentRef,
  Language,
  LanguagePreference,
  Me,
  Preferences,
  SessionView,
} from './bindings';

// The lists, the request detail, decisions and the outbox.
export type {
  Act,
  AttachOutcome,
  AttachmentState,
  BulkOutcome,
  DraftError,
  DraftView,
  EventView,
  FigureView,
  InboxEntry,
  InboxPage,
  InboxQuery,
  Label,
  MyRequestEntry,
  MyRequestsPage,
  MyRequestsQuery,
  OpenRequest,
  OutboxItem,
  OutboxState,
  PersonRef,
  RefusalView,
  RequestDetail,
  Sla,
  SlaFilter,
  StepView,
  SyncStatus,
  TaskView,
  TemplateCount,
} from './bindings';

// The form renderer, new request, settings and about screens.
export type {
  AboutInfo,
  AppSettings,
  ComputedField,
  DirectoryEntry,
  DirectoryKind,
  DirectoryQuery,
  FieldDef,
  FieldType,
  FormSchema,
  ProblemReport,
  SelectOption,
  SessionInfo,
  TemplateInfo,
} from './bindings';

// Meetings: the agenda, a meeting in full, answering invitations, planning one, calendar files.
export type {
  AttachmentInfo,
  CoverageMonthLine,
  ImportedInvitation,
  MeetingChange,
  MeetingCoverageLine,
  MeetingCoverageView,
  MeetingDetail,
  MeetingEntry,
  MeetingField,
  MeetingForm,
  MeetingPerson,
  MeetingStatus,
  RoomView,
  Rsvp,
} from './bindings';

/** The core's error as the screens see it (`ClientError` in Rust). */
export type CommandError = ClientError;
export type CommandErrorCode = ClientErrorCode;

/** What every command resolves to: tauri-specta's result shape. */
export type Result<T, E> = { status: 'ok'; data: T } | { status: 'error'; error: E };

function isCommandError(value: unknown): value is CommandError {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message } = value as Record<string, unknown>;
  return typeof code === 'string' && typeof message === 'string';
}

/** Turns anything a command rejected or threw with into a `CommandError`. */
export function toCommandError(value: unknown): CommandError {
  if (isCommandError(value)) {
    return {
      code: value.code,
      message: value.message,
      url: value.url ?? null,
      retry_after_secs: value.retry_after_secs ?? null,
    };
  }
  const message =
    value instanceof Error ? value.message : typeof value === 'string' ? value : String(value);
  return { code: 'internal', message, url: null, retry_after_secs: null };
}

async function settle<T>(
  call: () => Promise<Result<T, CommandError>>,
): Promise<Result<T, CommandError>> {
  try {
    const result = await call();
    return result.status === 'ok'
      ? result
      : { status: 'error', error: toCommandError(result.error) };
  } catch (thrown) {
    return { status: 'error', error: toCommandError(thrown) };
  }
}

export const api = {
  getPreferences: (): Promise<Result<Preferences, CommandError>> =>
    settle(() => commands.getPreferences()),
  setLanguage: (language: LanguagePreference): Promise<Result<Preferences, CommandError>> =>
    settle(() => commands.setLanguage(language)),
  restoreSession: (): Promise<Result<SessionView, CommandError>> =>
    settle(() => commands.restoreSession()),
  signIn: (
    server: string,
    username: string,
    password: string,
  ): Promise<Result<SessionView, CommandError>> =>
    settle(() => commands.signIn(server, username, password)),
  signOut: (): Promise<Result<SessionView, CommandError>> => settle(() => commands.signOut()),
  inbox: async (query: InboxQuery): Promise<Result<InboxPage, CommandError>> => {
    markStart('list_sent');
    const answer = await settle(() => commands.inbox(query));
    markStart('list_answered');
    return answer;
  },
  myRequests: (query: MyRequestsQuery): Promise<Result<MyRequestsPage, CommandError>> =>
    settle(() => commands.myRequests(query)),
  requestDetail: (id: string): Promise<Result<RequestDetail, CommandError>> =>
    settle(() => commands.requestDetail(id)),
  act: (requestId: string, act: Act): Promise<Result<OutboxItem, CommandError>> =>
    settle(() => commands.act(requestId, act)),
  actMany: (requestIds: string[], act: Act): Promise<Result<BulkOutcome[], CommandError>> =>
    settle(() => commands.actMany(requestIds, act)),
  drafts: (): Promise<Result<DraftView[], CommandError>> => settle(() => commands.drafts()),
  draftDelete: (id: string): Promise<Result<null, CommandError>> =>
    settle(() => commands.draftDelete(id)),
  syncStatus: (): Promise<Result<SyncStatus, CommandError>> =>
    settle(() => commands.syncStatus()),
  syncNow: (): Promise<Result<SyncStatus, CommandError>> => settle(() => commands.syncNow()),
  /** What a notification, the tray or a link asked to show, once (then it is forgotten). */
  takeOpenedRequest: (): Promise<Result<OpenRequest | null, CommandError>> =>
    settle(() => commands.takeOpenedRequest()),
  // The template gallery, drafts and submitting them.
  templates: (): Promise<Result<TemplateInfo[], CommandError>> => settle(() => commands.templates()),
  template: (id: string, version: number): Promise<Result<TemplateInfo | null, CommandError>> =>
    settle(() => commands.template(id, version)),
  /** People or departments matching what a picker has typed, from this computer's cache. */
  directorySearch: (query: DirectoryQuery): Promise<Result<DirectoryEntry[], CommandError>> =>
    settle(() => commands.directorySearch(query)),
  /** The people and departments among `ids`; an id the directory does not know is left out. */
  directoryNames: (ids: string[]): Promise<Result<DirectoryEntry[], CommandError>> =>
    settle(() => commands.directoryNames(ids)),
  draft: (id: string): Promise<Result<DraftView, CommandError>> => settle(() => commands.draft(id)),
  draftNew: (templateId: string): Promise<Result<DraftView, CommandError>> =>
    settle(() => commands.draftNew(templateId)),
  /** Sets one field (`purpose`, `lines[0].amount`) to a value given as JSON text. */
  draftSet: (id: string, path: string, valueJson: string): Promise<Result<DraftView, CommandError>> =>
    settle(() => commands.draftSet(id, path, valueJson)),
  draftTitle: (id: string, title: string): Promise<Result<DraftView, CommandError>> =>
    settle(() => commands.draftTitle(id, title)),
  /** The draft that corrects a request returned to the person (the same one if it exists);
   * submitting it resubmits that request. Refused for anyone but the initiator. */
  draftResubmit: (requestId: string): Promise<Result<DraftView, CommandError>> =>
    settle(() => commands.draftResubmit(requestId)),
  submitDraft: (id: string): Promise<Result<OutboxItem, CommandError>> =>
    settle(() => commands.submitDraft(id)),
  // Files: picked with the system dialog or dropped on the window, both on the Rust side (the
  // web view never names a path); opened with the system's app, downloaded first if needed.
  draftAttachPick: (id: string, path: string): Promise<Result<AttachOutcome, CommandError>> =>
    settle(() => commands.draftAttachPick(id, path)),
  draftAttachDropped: (id: string, path: string): Promise<Result<AttachOutcome, CommandError>> =>
    settle(() => commands.draftAttachDropped(id, path)),
  draftDetach: (
    id: string,
    path: string,
    attachment: string,
  ): Promise<Result<DraftView, CommandError>> =>
    settle(() => commands.draftDetach(id, path, attachment)),
  attachmentStates: (ids: string[]): Promise<Result<AttachmentState[], CommandError>> =>
    settle(() => commands.attachmentStates(ids)),
  openAttachment: (id: string): Promise<Result<null, CommandError>> =>
    settle(() => commands.openAttachment(id)),
  // Meetings. Times go to the core as ISO instants (UTC); it answers with the reader's local
  // times beside them. The calendar file dialogs run on the Rust side: no path reaches here.
  /** The meetings overlapping `[from, to)`, from this computer's cache. */
  meetings: (from: string, to: string): Promise<Result<MeetingEntry[], CommandError>> =>
    settle(() => commands.meetings(from, to)),
  meetingDetail: (id: string): Promise<Result<MeetingDetail, CommandError>> =>
    settle(() => commands.meetingDetail(id)),
  /** The invitations still waiting for the person's answer, soonest first. */
  invitationsToAnswer: (): Promise<Result<MeetingEntry[], CommandError>> =>
    settle(() => commands.invitationsToAnswer()),
  /** Answers an invitation; queued, and sent at once when online. */
  rsvp: (id: string, answer: Rsvp, note: string | null): Promise<Result<OutboxItem, CommandError>> =>
    settle(() => commands.rsvp(id, answer, note)),
  /** The rooms that can be booked (asks the server). */
  rooms: (): Promise<Result<RoomView[], CommandError>> => settle(() => commands.rooms()),
  /** Plans a meeting and sends its invitations (online); the new meeting's id. */
  meetingNew: (form: MeetingForm): Promise<Result<string, CommandError>> =>
    settle(() => commands.meetingNew(form)),
  /** Saves a meeting as a calendar file; the file's name, or null when the person cancelled. */
  meetingExport: (id: string): Promise<Result<string | null, CommandError>> =>
    settle(() => commands.meetingExport(id)),
  /** Reads a calendar file the person picks; null when they cancelled. Nothing is saved. */
  meetingImport: (): Promise<Result<ImportedInvitation[] | null, CommandError>> =>
    settle(() => commands.meetingImport()),
  /** Opens the meeting's own http(s) online link in the system's browser (checked in Rust). */
  openMeetingLink: (id: string): Promise<Result<null, CommandError>> =>
    settle(() => commands.openMeetingLink(id)),
  /** Changes a meeting the person organises, the whole plan as it should be now (online). */
  meetingEdit: (id: string, change: MeetingChange): Promise<Result<null, CommandError>> =>
    settle(() => commands.meetingEdit(id, change)),
  /** Cancels a meeting the person organises (online); everyone is told. */
  meetingCancel: (id: string, reason: string | null): Promise<Result<null, CommandError>> =>
    settle(() => commands.meetingCancel(id, reason)),
  /** Adds files picked in the system's dialog to the materials (online); false when the
   * person closed the dialog without choosing. */
  meetingAddMaterials: (id: string): Promise<Result<boolean, CommandError>> =>
    settle(() => commands.meetingAddMaterials(id)),
  /** Who was invited, reached, opened and answered, for meetings starting in `[from, to)`. */
  meetingCoverage: (from: string, to: string): Promise<Result<MeetingCoverageView, CommandError>> =>
    settle(() => commands.meetingCoverage(from, to)),
  // Settings, sessions and the app itself.
  setNotifications: (on: boolean): Promise<Result<Preferences, CommandError>> =>
    settle(() => commands.setNotifications(on)),
  signInForThisSession: (
    server: string,
    username: string,
    password: string,
  ): Promise<Result<SessionView, CommandError>> =>
    settle(() => commands.signInForThisSession(server, username, password)),
  sessions: (): Promise<Result<SessionInfo[], CommandError>> => settle(() => commands.sessions()),
  revokeSession: (id: string): Promise<Result<null, CommandError>> =>
    settle(() => commands.revokeSession(id)),
  appSettings: (): Promise<Result<AppSettings, CommandError>> =>
    settle(() => commands.appSettings()),
  setStartAtLogin: (on: boolean): Promise<Result<AppSettings, CommandError>> =>
    settle(() => commands.setStartAtLogin(on)),
  setNotificationsPaused: (paused: boolean): Promise<Result<AppSettings, CommandError>> =>
    settle(() => commands.setNotificationsPaused(paused)),
  about: (): Promise<Result<AboutInfo, CommandError>> => settle(() => commands.about()),
  reportProblem: (description: string): Promise<Result<ProblemReport, CommandError>> =>
    settle(() => commands.reportProblem(description)),
  /** Logs the first paint of a screen with the time since the app started and its steps. */
  firstPaint: (screen: string): Promise<Result<null, CommandError>> =>
    settle(() => commands.firstPaint(screen, startMarksPainted())),
};

