// The window's answers to what the Rust side tells it: lists changed, show a request, the
// sign-in ended. The whole app runs over the fake event bus and the fake commands.
import { act, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from './App';
import { CHANGED, OPEN_REQUEST, SESSION_CHANGED, SESSION_ENDED } from './events';
import { fakeCommands, resetFakeCommands } from './test/fakeCommands';
import { emitEvent, listenerCount, resetFakeEvents } from './test/fakeEvents';
import { commandError, englishPreferences, failed, ok, signedIn } from './test/fixtures';
import { meetingDetail, meetingId } from './test/meetings';
import {
  answerInboxOf,
  requestDetail,
  requestId,
  sizeVirtualLists,
  syncStatus,
} from './test/requests';

vi.mock('./bindings', async () => ({
  commands: (await import('./test/fakeCommands')).fakeCommands,
}));

vi.mock('@tauri-apps/api/event', async () => ({
  listen: (await import('./test/fakeEvents')).fakeListen,
}));

async function startSignedIn() {
  fakeCommands.getPreferences.mockResolvedValue(ok(englishPreferences));
  fakeCommands.restoreSession.mockResolvedValue(ok(signedIn()));
  const user = userEvent.setup();
  render(<App />);
  await screen.findByTestId('shell');
  await waitFor(() => {
    expect(listenerCount(OPEN_REQUEST)).toBe(1);
  });
  return user;
}

let unsize: () => void;

describe('events from the core', () => {
  beforeEach(() => {
    resetFakeCommands();
    resetFakeEvents();
    unsize = sizeVirtualLists();
  });

  afterEach(() => {
    unsize();
  });

  it('reads the rows in view and the sync status again when the lists changed', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(3));
    await startSignedIn();
    expect(await screen.findAllByTestId('inbox-row')).toHaveLength(3);
    const inboxAsked = fakeCommands.inbox.mock.calls.length;
    const statusAsked = fakeCommands.syncStatus.mock.calls.length;

    fakeCommands.inbox.mockImplementation(answerInboxOf(1));
    fakeCommands.syncStatus.mockResolvedValue(ok(syncStatus({ online: false })));
    act(() => {
      emitEvent(CHANGED, null);
    });

    await waitFor(() => {
      expect(screen.getAllByTestId('inbox-row')).toHaveLength(1);
    });
    expect(await screen.findByTestId('offline-banner')).toBeInTheDocument();
    expect(fakeCommands.inbox.mock.calls.length).toBeGreaterThan(inboxAsked);
    expect(fakeCommands.inbox.mock.calls.at(-1)?.[0]).toMatchObject({ offset: 0 });
    expect(fakeCommands.syncStatus.mock.calls.length).toBeGreaterThan(statusAsked);
  });

  it('shows the request asked for, with the reject box open when Reject was chosen', async () => {
    fakeCommands.requestDetail.mockResolvedValue(ok(requestDetail()));
    await startSignedIn();
    act(() => {
      fakeCommands.takeOpenedRequest.mockResolvedValueOnce(ok({ id: requestId(1), reject: true, problem: null, meeting: null }));
      emitEvent(OPEN_REQUEST, null);
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Trip to Shanghai' })).toBeInTheDocument();
    expect(fakeCommands.requestDetail).toHaveBeenCalledWith(requestId(1));
    // The box is focused by an effect after it is drawn.
    await waitFor(() => {
      expect(screen.getByLabelText('Why are you rejecting it? (required)')).toHaveFocus();
    });
  });

  it('shows a request asked for before the window was listening (the link that started the app)', async () => {
    fakeCommands.requestDetail.mockResolvedValue(ok(requestDetail()));
    fakeCommands.takeOpenedRequest.mockResolvedValueOnce(
      ok({ id: requestId(1), reject: false, problem: null, meeting: null }),
    );
    await startSignedIn();
    expect(await screen.findByRole('heading', { level: 1, name: 'Trip to Shanghai' })).toBeInTheDocument();
    expect(fakeCommands.requestDetail).toHaveBeenCalledWith(requestId(1));
  });

  it('says so when the linked request is not on this computer', async () => {
    fakeCommands.requestDetail.mockResolvedValue(failed(commandError('not_found')));
    await startSignedIn();
    act(() => {
      fakeCommands.takeOpenedRequest.mockResolvedValueOnce(ok({ id: requestId(404), reject: false, problem: null, meeting: null }));
      emitEvent(OPEN_REQUEST, null);
    });
    expect(await screen.findByTestId('request-not-found')).toBeInTheDocument();
  });

  it('shows the meeting an invitation’s Open or a meeting link asks for, from any screen', async () => {
    fakeCommands.meetingDetail.mockResolvedValue(
      ok(meetingDetail({ id: meetingId(4), title: 'Audit kick-off' })),
    );
    await startSignedIn();
    expect(screen.getByTestId('nav-inbox')).toHaveAttribute('aria-current', 'page');
    act(() => {
      fakeCommands.takeOpenedRequest.mockResolvedValueOnce(
        ok({ id: null, reject: false, meeting: meetingId(4), problem: null }),
      );
      emitEvent(OPEN_REQUEST, null);
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Audit kick-off' })).toBeInTheDocument();
    expect(fakeCommands.meetingDetail).toHaveBeenCalledWith(meetingId(4));
    expect(screen.getByTestId('nav-meetings')).toHaveAttribute('aria-current', 'page');

    // A second link while the first meeting shows opens the second.
    fakeCommands.meetingDetail.mockResolvedValue(
      ok(meetingDetail({ id: meetingId(5), title: 'Budget review #5' })),
    );
    act(() => {
      fakeCommands.takeOpenedRequest.mockResolvedValueOnce(
        ok({ id: null, reject: false, meeting: meetingId(5), problem: null }),
      );
      emitEvent(OPEN_REQUEST, null);
    });
    expect(await screen.findByRole('heading', { level: 1, name: 'Budget review #5' })).toBeInTheDocument();
  });

  it('says why a link could not be opened', async () => {
    await startSignedIn();
    act(() => {
      fakeCommands.takeOpenedRequest.mockResolvedValueOnce(ok({
        id: null,
        reject: false,
        meeting: null,
        problem: "Countersign cannot open 'countersign://report/1'",
      }));
      emitEvent(OPEN_REQUEST, null);
    });
    expect(await screen.findByTestId('link-problem')).toHaveTextContent(
      "This link could not be opened: Countersign cannot open 'countersign://report/1'",
    );
  });

  it('goes back to signing in, with the reason and the user name, when the session ends', async () => {
    await startSignedIn();
    act(() => {
      emitEvent(SESSION_ENDED, commandError('session_revoked'));
    });
    expect(await screen.findByTestId('signed-out-reason')).toHaveTextContent(
      'You were signed out because this session was revoked.',
    );
    expect(screen.queryByTestId('shell')).not.toBeInTheDocument();
    expect(screen.getByLabelText('User name')).toHaveValue('li.lei');
    expect(screen.getByLabelText('Server address')).toHaveValue('https://oa.example.com');
  });

  it('shows the identity the server gives after starting on the remembered one', async () => {
    await startSignedIn();
    expect(await screen.findByTestId('display-name')).toHaveTextContent('李雷');
    // A late answer about someone else (signed in since) changes nothing.
    act(() => {
      emitEvent(
        SESSION_CHANGED,
        signedIn({ me: { ...signedIn().me, id: '0190d4a0-0000-7000-8000-000000000099', display_name: '韩梅梅' } }),
      );
    });
    expect(screen.getByTestId('display-name')).toHaveTextContent('李雷');
    act(() => {
      emitEvent(SESSION_CHANGED, signedIn({ me: { ...signedIn().me, display_name: '李雷 (财务)' } }));
    });
    await waitFor(() => {
      expect(screen.getByTestId('display-name')).toHaveTextContent('李雷 (财务)');
    });
    expect(screen.getByTestId('shell')).toBeInTheDocument();
  });

  it('goes back from a request to the list it was opened from', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(3));
    fakeCommands.requestDetail.mockResolvedValue(ok(requestDetail({ id: requestId(1) })));
    const user = await startSignedIn();
    await user.click(await screen.findByText('Trip to Shanghai #1'));
    expect(await screen.findByRole('heading', { level: 1, name: 'Trip to Shanghai' })).toBeInTheDocument();
    await user.click(screen.getByTestId('request-back'));
    expect(await screen.findByRole('heading', { level: 1, name: 'Inbox' })).toBeInTheDocument();
  });
});

describe('the palette’s list entries', () => {
  beforeEach(() => {
    resetFakeCommands();
    resetFakeEvents();
    unsize = sizeVirtualLists();
  });

  afterEach(() => {
    unsize();
  });

  it('syncs now, goes to my requests, and approves the selection', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(3));
    fakeCommands.syncNow.mockResolvedValue(ok(syncStatus()));
    fakeCommands.actMany.mockResolvedValue(ok([]));
    const user = await startSignedIn();

    await user.keyboard('{Control>}k{/Control}sync{Enter}');
    expect(fakeCommands.syncNow).toHaveBeenCalledTimes(1);

    await user.keyboard('{Control>}k{/Control}approve');
    expect(screen.queryByRole('option', { name: /Approve selected/ })).not.toBeInTheDocument();
    await user.keyboard('{Escape}');

    await user.click(await screen.findByRole('checkbox', { name: 'Select “Trip to Shanghai #2”' }));
    await user.keyboard('{Control>}k{/Control}approve{Enter}');
    expect(await screen.findByTestId('bulk-approve')).toHaveTextContent(
      'Approve the selected requests (1)',
    );

    await user.keyboard('{Escape}{Control>}k{/Control}my req{Enter}');
    expect(await screen.findByRole('heading', { level: 1, name: 'My requests' })).toHaveFocus();
    expect(screen.getByTestId('nav-my-requests')).toHaveAttribute('aria-current', 'page');
  });
});
