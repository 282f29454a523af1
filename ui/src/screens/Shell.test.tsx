import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { englishPreferences, liLei, ok, signedIn } from '../test/fixtures';
import { meetingDetail, meetingEntry, meetingId } from '../test/meetings';
import { draftView, outboxItem, requestDetail, requestId, wangWu } from '../test/requests';
import { initialsOf, Shell } from './Shell';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

function renderShell() {
  const user = userEvent.setup();
  render(
    <Shell
      session={signedIn()}
      preferences={englishPreferences}
      onLanguageChange={vi.fn().mockResolvedValue(null)}
      onSignedOut={vi.fn()}
    />,
  );
  return user;
}

describe('Shell', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('starts on the inbox with the keyboard in the navigation', () => {
    renderShell();
    expect(screen.getByTestId('nav-inbox')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByTestId('nav-inbox')).toHaveFocus();
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Inbox');
  });

  it('moves between Inbox and Settings with Tab, arrows and Enter', async () => {
    const user = renderShell();
    await user.keyboard('{End}{Enter}');
    expect(screen.getByTestId('nav-settings')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Settings');

    await user.keyboard('{Home}{Enter}');
    expect(await screen.findByTestId('inbox-empty')).toBeInTheDocument();

    await user.keyboard('{ArrowUp}');
    expect(screen.getByTestId('nav-settings')).toHaveFocus();
    await user.keyboard('{ArrowDown}');
    expect(screen.getByTestId('nav-inbox')).toHaveFocus();
  });

  it('shows a "coming soon" page for screens not built yet, with the way back', async () => {
    const user = renderShell();
    await user.click(screen.getByTestId('nav-knowledge-base'));
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Knowledge base');
    expect(screen.getByTestId('coming-soon')).toHaveTextContent(
      'Knowledge base is coming in a later version of Countersign.',
    );
    await user.click(screen.getByRole('button', { name: 'Back to Inbox' }));
    expect(await screen.findByTestId('inbox-empty')).toBeInTheDocument();
  });

  it('opens Meetings from the navigation, no longer "soon"', async () => {
    fakeCommands.meetings.mockResolvedValue(ok([meetingEntry(1)]));
    const user = renderShell();
    expect(screen.getByTestId('nav-meetings')).not.toHaveTextContent('Soon');
    await user.click(screen.getByTestId('nav-meetings'));
    expect(screen.getByTestId('nav-meetings')).toHaveAttribute('aria-current', 'page');
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Meetings');
    expect(await screen.findByTestId('meeting-entry')).toHaveAttribute('data-meeting-id', meetingId(1));
    expect(screen.queryByTestId('coming-soon')).not.toBeInTheDocument();
  });

  it('shows the meeting a notification, the tray or a link asks for, and goes back to the week', async () => {
    fakeCommands.takeOpenedRequest.mockResolvedValueOnce(
      ok({ id: null, reject: false, meeting: meetingId(3), problem: null }),
    );
    fakeCommands.meetingDetail.mockResolvedValue(
      ok(meetingDetail({ id: meetingId(3), title: 'Audit kick-off' })),
    );
    const user = renderShell();
    expect(await screen.findByTestId('meeting-title')).toHaveTextContent('Audit kick-off');
    expect(fakeCommands.meetingDetail).toHaveBeenCalledWith(meetingId(3));
    expect(fakeCommands.requestDetail).not.toHaveBeenCalled();
    expect(screen.getByTestId('nav-meetings')).toHaveAttribute('aria-current', 'page');

    await user.click(screen.getByTestId('meeting-back'));
    expect(await screen.findByTestId('meetings')).toBeInTheDocument();
    expect(screen.queryByTestId('meeting-detail')).not.toBeInTheDocument();
  });

  it('corrects a request returned to the signed-in person in the draft editor, and resubmits it', async () => {
    const mine = { id: liLei.id, name: liLei.display_name };
    fakeCommands.takeOpenedRequest.mockResolvedValueOnce(
      ok({ id: requestId(1), reject: false, meeting: null, problem: null }),
    );
    const returned = requestDetail({
      status: 'returned',
      initiator: mine,
      my_tasks: [],
      events: [
        { at: '2026-11-30T01:00:00Z', actor: mine, kind: 'submitted', comment: '', other: null },
        { at: '2026-11-30T03:15:00Z', actor: wangWu, kind: 'returned', comment: 'Hotel invoice missing', other: null },
      ],
    });
    fakeCommands.requestDetail.mockResolvedValue(ok(returned));
    const correction = draftView({ title: 'Trip to Shanghai', resubmits: requestId(1) });
    fakeCommands.draftResubmit.mockResolvedValue(ok(correction));
    fakeCommands.draft.mockResolvedValue(ok(correction));
    fakeCommands.template.mockResolvedValue(ok(returned.template));
    fakeCommands.submitDraft.mockResolvedValue(ok(outboxItem({ action: 'resubmit' })));
    const user = renderShell();

    expect(await screen.findByTestId('request-return-comment')).toHaveTextContent('Hotel invoice missing');
    await user.click(screen.getByTestId('request-resubmit'));
    expect(fakeCommands.draftResubmit).toHaveBeenCalledWith(requestId(1));

    expect(await screen.findByTestId('draft-resubmits')).toHaveTextContent(
      'Correcting request “Trip to Shanghai” returned to you',
    );
    expect(screen.getByTestId('nav-drafts')).toHaveAttribute('aria-current', 'page');
    const submit = screen.getByRole('button', { name: 'Resubmit' });
    expect(submit).toHaveAttribute('id', 'submit-draft');
    await user.click(submit);
    expect(fakeCommands.submitDraft).toHaveBeenCalledWith(correction.id);
    expect(await screen.findByTestId('draft-outcome')).toHaveTextContent('Trip to Shanghai Resubmitted.');
  });

  it('shows the account and version in Settings', async () => {
    const user = renderShell();
    await user.click(screen.getByTestId('nav-settings'));
    expect(screen.getByText('li.lei')).toBeInTheDocument();
    expect(screen.getByText('https://oa.example.com')).toBeInTheDocument();
    expect(screen.getByTestId('app-version')).toHaveTextContent('Version 0.1.0');
    expect(document.querySelector('#language')).toHaveValue('system');
  });
});

describe('initialsOf', () => {
  it('uses the given name for Chinese names and initials for Latin ones', () => {
    expect(initialsOf('李雷')).toBe('李雷');
    expect(initialsOf('欧阳 娜娜')).toBe('娜娜');
    expect(initialsOf('王小明')).toBe('小明');
    expect(initialsOf('Han Meimei')).toBe('HM');
    expect(initialsOf('jim  green brown')).toBe('JB');
    expect(initialsOf('Lucy')).toBe('L');
    expect(initialsOf('  ')).toBe('');
  });
});
