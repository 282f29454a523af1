// Stand-ins for the generated Tauri commands. Tests replace `./bindings` with these through
// `vi.mock` and script each command's answer; the UI under test runs unchanged above them.
import { vi } from 'vitest';
import type { commands } from '../bindings';

type Commands = typeof commands;

export const fakeCommands = {
  getPreferences: vi.fn<Commands['getPreferences']>(),
  setLanguage: vi.fn<Commands['setLanguage']>(),
  restoreSession: vi.fn<Commands['restoreSession']>(),
  signIn: vi.fn<Commands['signIn']>(),
  signOut: vi.fn<Commands['signOut']>(),
  // The form renderer, new request, settings and about screens.
  templates: vi.fn<Commands['templates']>(),
  template: vi.fn<Commands['template']>(),
  directorySearch: vi.fn<Commands['directorySearch']>(),
  directoryNames: vi.fn<Commands['directoryNames']>(),
  draft: vi.fn<Commands['draft']>(),
  draftNew: vi.fn<Commands['draftNew']>(),
  draftSet: vi.fn<Commands['draftSet']>(),
  draftTitle: vi.fn<Commands['draftTitle']>(),
  draftResubmit: vi.fn<Commands['draftResubmit']>(),
  submitDraft: vi.fn<Commands['submitDraft']>(),
  draftAttachPick: vi.fn<Commands['draftAttachPick']>(),
  draftAttachDropped: vi.fn<Commands['draftAttachDropped']>(),
  draftDetach: vi.fn<Commands['draftDetach']>(),
  attachmentStates: vi.fn<Commands['attachmentStates']>(),
  openAttachment: vi.fn<Commands['openAttachment']>(),
  // Meetings.
  meetings: vi.fn<Commands['meetings']>(),
  meetingDetail: vi.fn<Commands['meetingDetail']>(),
  invitationsToAnswer: vi.fn<Commands['invitationsToAnswer']>(),
  rsvp: vi.fn<Commands['rsvp']>(),
  rooms: vi.fn<Commands['rooms']>(),
  meetingNew: vi.fn<Commands['meetingNew']>(),
  meetingExport: vi.fn<Commands['meetingExport']>(),
  meetingImport: vi.fn<Commands['meetingImport']>(),
  openMeetingLink: vi.fn<Commands['openMeetingLink']>(),
  meetingEdit: vi.fn<Commands['meetingEdit']>(),
  meetingCancel: vi.fn<Commands['meetingCancel']>(),
  meetingAddMaterials: vi.fn<Commands['meetingAddMaterials']>(),
  meetingCoverage: vi.fn<Commands['meetingCoverage']>(),
  setNotifications: vi.fn<Commands['setNotifications']>(),
  signInForThisSession: vi.fn<Commands['signInForThisSession']>(),
  sessions: vi.fn<Commands['sessions']>(),
  revokeSession: vi.fn<Commands['revokeSession']>(),
  appSettings: vi.fn<Commands['appSettings']>(),
  setStartAtLogin: vi.fn<Commands['setStartAtLogin']>(),
  setNotificationsPaused: vi.fn<Commands['setNotificationsPaused']>(),
  about: vi.fn<Commands['about']>(),
  reportProblem: vi.fn<Commands['reportProblem']>(),
  inbox: vi.fn<Commands['inbox']>(),
  myRequests: vi.fn<Commands['myRequests']>(),
  requestDetail: vi.fn<Commands['requestDetail']>(),
  act: vi.fn<Commands['act']>(),
  actMany: vi.fn<Commands['actMany']>(),
  drafts: vi.fn<Commands['drafts']>(),
  draftDelete: vi.fn<Commands['draftDelete']>(),
  syncStatus: vi.fn<Commands['syncStatus']>(),
  syncNow: vi.fn<Commands['syncNow']>(),
  takeOpenedRequest: vi.fn<Commands['takeOpenedRequest']>(),
  firstPaint: vi.fn<Commands['firstPaint']>(),
};

/**
 * Settings asks for the app's settings and the account's devices as soon as it shows; unless a
 * test scripts them, they answer as a fresh install signed in on this one device.
 */
function answerSettingsQuietly(): void {
  const ok = <T>(data: T) => Promise.resolve({ status: 'ok' as const, data });
  fakeCommands.appSettings.mockImplementation(() =>
    ok({ start_at_login: false, notifications_paused: false }),
  );
  // The inbox reports its first paint to the app's log.
  fakeCommands.firstPaint.mockImplementation(() => ok(null));
  // Nothing waits to be opened unless a test says so.
  fakeCommands.takeOpenedRequest.mockImplementation(() => ok(null));
  // Submitting a draft asks whether the app is online.
  fakeCommands.syncStatus.mockImplementation(() =>
    ok({
      online: true,
      last_sync_at: null,
      last_error: null,
      outbox_pending: 0,
      refused: [],
      recovery: null,
    }),
  );
  fakeCommands.sessions.mockImplementation(() =>
    ok([
      {
        id: 'this-device',
        device_name: 'This computer',
        created_at: '2026-03-02T01:00:00Z',
        last_seen_at: '2026-03-02T02:00:00Z',
        current: true,
      },
    ]),
  );
}

export function resetFakeCommands(): void {
  for (const command of Object.values(fakeCommands)) command.mockReset();
  answerSettingsQuietly();
  answerListsQuietly();
  answerDirectoryQuietly();
}

/**
 * Forms with a person or department ask the directory for names; unless a test scripts it,
 * the directory on this computer is empty.
 */
function answerDirectoryQuietly(): void {
  const ok = <T>(data: T) => Promise.resolve({ status: 'ok' as const, data });
  fakeCommands.directorySearch.mockImplementation(() => ok([]));
  fakeCommands.directoryNames.mockImplementation(() => ok([]));
  // Files listed in a form are on this computer and not uploaded, unless a test says so.
  fakeCommands.attachmentStates.mockImplementation((ids) =>
    ok(ids.map((id) => ({ id, on_this_device: true, uploaded: false }))),
  );
}

/**
 * The lists and the sync status are asked for as soon as the shell shows; unless a test
 * scripts them, they answer as a fresh, online account with nothing waiting, so that tests
 * about other screens need not script them.
 */
function answerListsQuietly(): void {
  const ok = <T>(data: T) => Promise.resolve({ status: 'ok' as const, data });
  fakeCommands.inbox.mockImplementation((query) =>
    ok({ items: [], total: 0, offset: query.offset ?? 0, templates: [] }),
  );
  fakeCommands.myRequests.mockImplementation((query) =>
    ok({ items: [], total: 0, offset: query.offset ?? 0 }),
  );
  fakeCommands.drafts.mockImplementation(() => ok([]));
  // No meetings, no invitations waiting and no rooms to book.
  fakeCommands.meetings.mockImplementation(() => ok([]));
  fakeCommands.invitationsToAnswer.mockImplementation(() => ok([]));
  fakeCommands.rooms.mockImplementation(() => ok([]));
  fakeCommands.syncStatus.mockImplementation(() =>
    ok({
      online: true,
      last_sync_at: null,
      last_error: null,
      outbox_pending: 0,
      refused: [],
      recovery: null,
    }),
  );
}
