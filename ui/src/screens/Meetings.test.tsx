import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, failed, ok } from '../test/fixtures';
import {
  at,
  chenLi,
  importedInvitation,
  meetingDetail,
  meetingEntry,
  meetingId,
  mondayIn,
  rsvpItem,
  zhouJie,
} from '../test/meetings';
import { Meetings } from './Meetings';

// Shanghai, so that "Monday 00:00 on this computer" is a UTC instant on the Sunday before.
// (Node reads TZ again when it is set; the UI's tsconfig has no Node types, hence the cast.)
const { env, originalZone } = vi.hoisted(() => {
  const env = (globalThis as unknown as { process: { env: { TZ?: string } } })
    .process.env;
  const originalZone = env.TZ;
  env.TZ = 'Asia/Shanghai';
  return { env, originalZone };
});

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

afterAll(() => {
  if (originalZone === undefined) delete env.TZ;
  else env.TZ = originalZone;
});

function renderMeetings() {
  const user = userEvent.setup();
  const view = render(<Meetings changes={0} />);
  return { user, view };
}

/** The weeks the screen asked the core for, in order. */
function askedWeeks(): [string, string][] {
  return fakeCommands.meetings.mock.calls.map(([from, to]) => [from, to]);
}

describe('Meetings', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('places each meeting in the column of its day, with time, room and where the person stands', async () => {
    fakeCommands.meetings.mockResolvedValue(
      ok([
        meetingEntry(1, { day: 2 }),
        meetingEntry(2, {
          day: 4,
          title: 'Offsite planning',
          status: 'cancelled',
          room: null,
          place: 'Hangzhou office',
          my_answer: 'accept',
        }),
        meetingEntry(3, { day: 2, my_role: 'organiser', title: 'Team sync' }),
      ]),
    );
    renderMeetings();

    const week = await screen.findByTestId('meetings-week');
    const days = within(week).getAllByTestId('meetings-day');
    expect(days).toHaveLength(7);
    const [monday, tuesday, wednesday, thursday, friday, saturday, sunday] = days as [
      HTMLElement,
      HTMLElement,
      HTMLElement,
      HTMLElement,
      HTMLElement,
      HTMLElement,
      HTMLElement,
    ];
    expect(wednesday).toHaveAttribute('data-day', meetingEntry(1).local_start.slice(0, 10));

    const [review, sync] = within(wednesday).getAllByTestId('meeting-entry') as [HTMLElement, HTMLElement];
    expect(review).toHaveAttribute('data-meeting-id', meetingId(1));
    expect(review).toHaveTextContent('09:00 – 10:00');
    expect(review).toHaveTextContent('Budget review #1');
    expect(review).toHaveTextContent('Room 301');
    expect(within(review).getByTestId('meeting-mark')).toHaveTextContent('To answer');
    expect(within(sync).getByTestId('meeting-mark')).toHaveTextContent('Organiser');

    const offsite = within(friday).getByTestId('meeting-entry');
    expect(offsite).toHaveAttribute('data-meeting-id', meetingId(2));
    expect(offsite).toHaveTextContent('Hangzhou office');
    expect(within(offsite).getByTestId('meeting-mark')).toHaveTextContent('Cancelled');
    expect(offsite.querySelector('s')).toHaveTextContent('Offsite planning');
    // Nothing on the other days.
    for (const day of [monday, tuesday, thursday, saturday, sunday]) {
      expect(within(day).queryByTestId('meeting-entry')).not.toBeInTheDocument();
    }
  });

  it('shows the same week as an agenda grouped by day, and back', async () => {
    fakeCommands.meetings.mockResolvedValue(
      ok([meetingEntry(1, { day: 2 }), meetingEntry(2, { day: 4, my_answer: 'tentative' })]),
    );
    const { user } = renderMeetings();
    await screen.findByTestId('meetings-week');
    expect(screen.getByTestId('meetings-view-week')).toHaveAttribute('aria-pressed', 'true');

    await user.click(screen.getByTestId('meetings-view-agenda'));
    expect(screen.getByTestId('meetings-view-agenda')).toHaveAttribute('aria-pressed', 'true');
    expect(screen.queryByTestId('meetings-week')).not.toBeInTheDocument();
    const agenda = screen.getByTestId('meetings-agenda');
    const groups = agenda.querySelectorAll('.agenda-day');
    expect(groups).toHaveLength(2);
    expect(groups[0]).toHaveAttribute('data-day', meetingEntry(1, { day: 2 }).local_start.slice(0, 10));
    expect(within(groups[0] as HTMLElement).getByTestId('meeting-entry')).toHaveAttribute(
      'data-meeting-id',
      meetingId(1),
    );
    expect(within(groups[1] as HTMLElement).getByTestId('meeting-entry')).toHaveTextContent('Tentative');

    await user.click(screen.getByTestId('meetings-view-week'));
    expect(screen.getByTestId('meetings-week')).toBeInTheDocument();
  });

  it('asks for Monday to Monday on this computer’s clock, in UTC, and moves a week at a time', async () => {
    const { user } = renderMeetings();
    await screen.findByTestId('meetings-empty');
    const thisWeek: [string, string] = [mondayIn(0).toISOString(), mondayIn(1).toISOString()];
    expect(askedWeeks()).toEqual([thisWeek]);
    // Midnight in Shanghai is 16:00 UTC the day before.
    expect(thisWeek[0]).toMatch(/T16:00:00\.000Z$/);
    expect(new Date(thisWeek[0]).getDay()).toBe(1);

    await user.click(screen.getByTestId('meetings-next'));
    await waitFor(() => {
      expect(askedWeeks().at(-1)).toEqual([mondayIn(1).toISOString(), mondayIn(2).toISOString()]);
    });
    await user.click(screen.getByTestId('meetings-prev'));
    await user.click(screen.getByTestId('meetings-prev'));
    await waitFor(() => {
      expect(askedWeeks().at(-1)).toEqual([mondayIn(-1).toISOString(), mondayIn(0).toISOString()]);
    });
    expect(screen.getByTestId('meetings-today')).toHaveAttribute('aria-pressed', 'false');
    await user.click(screen.getByTestId('meetings-today'));
    await waitFor(() => {
      expect(askedWeeks().at(-1)).toEqual(thisWeek);
    });
    expect(screen.getByTestId('meetings-today')).toHaveAttribute('aria-pressed', 'true');
  });

  it('says so when the week has no meetings', async () => {
    renderMeetings();
    expect(await screen.findByTestId('meetings-empty')).toHaveTextContent('No meetings this week');
    expect(screen.queryByTestId('meetings-week')).not.toBeInTheDocument();
    expect(screen.queryByTestId('invitations-to-answer')).not.toBeInTheDocument();
  });

  it('reads the week again when the lists changed', async () => {
    const { view } = renderMeetings();
    await screen.findByTestId('meetings-empty');
    fakeCommands.meetings.mockResolvedValue(ok([meetingEntry(1)]));
    view.rerender(<Meetings changes={1} />);
    expect(await screen.findByTestId('meeting-entry')).toHaveAttribute('data-meeting-id', meetingId(1));
  });

  it('answers an invitation from the strip in one click, then reads the invitations and the week again', async () => {
    fakeCommands.invitationsToAnswer.mockResolvedValue(ok([meetingEntry(1), meetingEntry(2, { day: 3 })]));
    fakeCommands.meetings.mockResolvedValue(ok([meetingEntry(1), meetingEntry(2, { day: 3 })]));
    fakeCommands.rsvp.mockResolvedValue(ok(rsvpItem()));
    const { user } = renderMeetings();

    const strip = await screen.findByTestId('invitations-to-answer');
    const invitations = within(strip).getAllByTestId('invitation');
    expect(invitations).toHaveLength(2);
    const [first] = invitations as [HTMLElement, HTMLElement];
    expect(first).toHaveAttribute('data-meeting-id', meetingId(1));
    expect(first).toHaveTextContent('Budget review #1');
    expect(first).toHaveTextContent('王芳');
    const weekAsked = fakeCommands.meetings.mock.calls.length;

    fakeCommands.invitationsToAnswer.mockResolvedValue(ok([meetingEntry(2, { day: 3 })]));
    fakeCommands.meetings.mockResolvedValue(
      ok([meetingEntry(1, { my_answer: 'accept' }), meetingEntry(2, { day: 3 })]),
    );
    await user.click(within(first).getByTestId('invitation-accept'));

    expect(fakeCommands.rsvp).toHaveBeenCalledWith(meetingId(1), 'accept', null);
    await waitFor(() => {
      expect(screen.getAllByTestId('invitation')).toHaveLength(1);
    });
    expect(fakeCommands.meetings.mock.calls.length).toBeGreaterThan(weekAsked);
    await waitFor(() => {
      const accepted = screen
        .getAllByTestId('meeting-entry')
        .filter((entry) => entry.getAttribute('data-meeting-id') === meetingId(1));
      expect(accepted).toHaveLength(1);
      expect(accepted[0]).toHaveTextContent('Accepted');
    });
  });

  it('says why a quick answer was refused, in the core’s words', async () => {
    fakeCommands.invitationsToAnswer.mockResolvedValue(ok([meetingEntry(1)]));
    fakeCommands.rsvp.mockResolvedValue(
      failed(commandError('refused', { message: '“Budget review #1” was cancelled.' })),
    );
    const { user } = renderMeetings();
    await user.click(await screen.findByTestId('invitation-decline'));
    expect(fakeCommands.rsvp).toHaveBeenCalledWith(meetingId(1), 'decline', null);
    expect(await screen.findByTestId('meetings-error')).toHaveTextContent(
      'Your answer to “Budget review #1” was not taken: “Budget review #1” was cancelled.',
    );
  });

  it('opens a meeting from the week and from the strip, and comes back to the week it was in', async () => {
    const start = at(2, 9, 0, 1);
    const end = at(2, 10, 0, 1);
    const nextWeek = meetingEntry(1, {
      starts_at: start.iso,
      ends_at: end.iso,
      local_start: start.local,
      local_end: end.local,
    });
    fakeCommands.meetings.mockImplementation((from) =>
      Promise.resolve(ok(from === mondayIn(1).toISOString() ? [nextWeek] : [])),
    );
    fakeCommands.invitationsToAnswer.mockResolvedValue(ok([meetingEntry(2)]));
    fakeCommands.meetingDetail.mockImplementation((id) =>
      Promise.resolve(
        ok(meetingDetail({ id, title: id === meetingId(1) ? 'Budget review #1' : 'Budget review #2' })),
      ),
    );
    const { user } = renderMeetings();
    await screen.findByTestId('meetings-empty');
    await user.click(screen.getByTestId('meetings-next'));
    await user.click(await screen.findByTestId('meeting-entry'));
    expect(await screen.findByTestId('meeting-title')).toHaveTextContent('Budget review #1');
    expect(fakeCommands.meetingDetail).toHaveBeenLastCalledWith(meetingId(1));

    await user.click(screen.getByTestId('meeting-back'));
    // Still next week, as it was left.
    expect(await screen.findByTestId('meeting-entry')).toHaveAttribute('data-meeting-id', meetingId(1));
    expect(askedWeeks().at(-1)).toEqual([mondayIn(1).toISOString(), mondayIn(2).toISOString()]);
    expect(screen.getByRole('heading', { level: 1 })).toHaveFocus();

    await user.click(
      within(screen.getByTestId('invitation')).getByRole('button', { name: 'Budget review #2' }),
    );
    expect(await screen.findByTestId('meeting-title')).toHaveTextContent('Budget review #2');
    expect(fakeCommands.meetingDetail).toHaveBeenLastCalledWith(meetingId(2));
  });

  it('lets the organiser change a meeting from its detail and comes back to it, read again', async () => {
    const mine = meetingDetail({
      my_role: 'organiser',
      starts_at: '2026-03-04T01:00:00Z',
      ends_at: '2026-03-04T02:00:00Z',
      room: null,
      room_id: null,
    });
    fakeCommands.meetings.mockResolvedValue(ok([meetingEntry(1, { my_role: 'organiser' })]));
    fakeCommands.meetingDetail.mockResolvedValue(ok(mine));
    fakeCommands.meetingEdit.mockResolvedValue(ok(null));
    const { user } = renderMeetings();
    await user.click(await screen.findByTestId('meeting-entry'));
    await user.click(await screen.findByTestId('meeting-edit'));

    expect(screen.getByTestId('new-meeting')).toHaveAttribute('data-mode', 'edit');
    expect(screen.getByTestId('new-meeting-start')).toHaveValue('09:00');
    await user.clear(screen.getByTestId('new-meeting-title'));
    await user.type(screen.getByTestId('new-meeting-title'), 'Budget review, moved');
    fakeCommands.meetingDetail.mockResolvedValue(
      ok({ ...mine, title: 'Budget review, moved', changed: ['title'] }),
    );
    await user.click(screen.getByTestId('new-meeting-submit'));

    expect(fakeCommands.meetingEdit).toHaveBeenCalledWith(
      meetingId(1),
      expect.objectContaining({ title: 'Budget review, moved', starts_at: '2026-03-04T01:00:00.000Z' }),
    );
    expect(await screen.findByTestId('meeting-title')).toHaveTextContent('Budget review, moved');
    expect(fakeCommands.meetingDetail).toHaveBeenCalledTimes(2);

    // Called off, the form goes back to the meeting too, having sent nothing more.
    await user.click(screen.getByTestId('meeting-edit'));
    await user.click(screen.getByTestId('new-meeting-cancel'));
    expect(await screen.findByTestId('meeting-title')).toHaveTextContent('Budget review, moved');
    expect(fakeCommands.meetingEdit).toHaveBeenCalledTimes(1);
  });

  describe('importing a calendar file', () => {
    it('shows each event with the matched and the unknown attendees, then plans one with the form filled in', async () => {
      fakeCommands.meetingImport.mockResolvedValue(
        ok([
          importedInvitation({ repeats: 'FREQ=WEEKLY;COUNT=4' }),
          importedInvitation({ meeting_id: meetingId(7), title: 'Budget review #7', not_found: [] }),
        ]),
      );
      fakeCommands.directoryNames.mockImplementation((ids) =>
        Promise.resolve(
          ok(
            [zhouJie, chenLi]
              .filter((who) => ids.includes(who.id))
              .map((who) => ({ id: who.id, kind: 'people' as const, name: who.name, detail: null, active: true })),
          ),
        ),
      );
      const { user } = renderMeetings();
      await user.click(screen.getByTestId('meetings-import'));

      const preview = await screen.findByTestId('import-preview');
      const [visit, ours] = within(preview).getAllByTestId('imported-event') as [HTMLElement, HTMLElement];
      expect(visit).toHaveTextContent('Supplier visit');
      expect(visit).toHaveTextContent('14:00 – 15:00');
      expect(visit).toHaveTextContent('Sent in W. Europe Standard Time.');
      expect(visit).toHaveTextContent('Building B, 3rd floor');
      expect(visit).toHaveTextContent('Anna Schmidt');
      expect(within(visit).getByTestId('imported-matched')).toHaveTextContent('周杰');
      expect(within(visit).getByTestId('imported-matched')).toHaveTextContent('陈丽');
      const notFound = within(visit).getByTestId('imported-not-found');
      expect(notFound).toHaveTextContent('Hans Müller <hans@supplier.example>');
      expect(notFound).toHaveTextContent('not in the directory');
      expect(within(visit).getByTestId('imported-repeats')).toHaveTextContent(
        'only its first occurrence is read',
      );
      expect(within(visit).queryByTestId('imported-open')).not.toBeInTheDocument();
      expect(within(ours).getByTestId('imported-open')).toBeInTheDocument();
      expect(within(ours).queryByTestId('imported-plan')).not.toBeInTheDocument();
      expect(within(ours).queryByTestId('imported-not-found')).not.toBeInTheDocument();

      await user.click(within(visit).getByTestId('imported-plan'));
      const form = await screen.findByTestId('new-meeting');
      const start = new Date(importedInvitation().starts_at);
      expect(screen.getByTestId('new-meeting-title')).toHaveValue('Supplier visit');
      expect(screen.getByTestId('new-meeting-date')).toHaveValue(importedInvitation().local_start.slice(0, 10));
      expect(start.getHours()).toBe(14);
      expect(screen.getByTestId('new-meeting-start')).toHaveValue('14:00');
      expect(screen.getByTestId('new-meeting-end')).toHaveValue('15:00');
      expect(screen.getByTestId('new-meeting-place')).toHaveValue('Building B, 3rd floor');
      expect(screen.getByTestId('new-meeting-link')).toHaveValue('https://meet.example.com/abc');
      expect(screen.getByTestId('new-meeting-agenda')).toHaveValue('Walk through the new contract.');
      const chosen = within(form).getByTestId('new-meeting-people-chosen');
      expect(chosen).toHaveTextContent('周杰');
      expect(chosen).toHaveTextContent('陈丽');

      fakeCommands.meetingNew.mockResolvedValue(failed(commandError('server_unreachable')));
      await user.click(screen.getByTestId('new-meeting-submit'));
      expect(fakeCommands.meetingNew).toHaveBeenCalledWith(
        expect.objectContaining({
          title: 'Supplier visit',
          starts_at: importedInvitation().starts_at,
          ends_at: importedInvitation().ends_at,
          place: 'Building B, 3rd floor',
          online_link: 'https://meet.example.com/abc',
          invite_ids: [zhouJie.id, chenLi.id],
        }),
      );

      // Cancelling the form comes back to the file's events, still shown.
      await user.click(screen.getByTestId('new-meeting-cancel'));
      expect(await screen.findByTestId('import-preview')).toBeInTheDocument();
    });

    it('opens an event that is already a meeting on this computer', async () => {
      fakeCommands.meetingImport.mockResolvedValue(
        ok([importedInvitation({ meeting_id: meetingId(7), title: 'Budget review #7' })]),
      );
      fakeCommands.meetingDetail.mockResolvedValue(ok(meetingDetail({ id: meetingId(7), title: 'Budget review #7' })));
      const { user } = renderMeetings();
      await user.click(screen.getByTestId('meetings-import'));
      await user.click(await screen.findByTestId('imported-open'));
      expect(await screen.findByTestId('meeting-title')).toHaveTextContent('Budget review #7');
      expect(fakeCommands.meetingDetail).toHaveBeenCalledWith(meetingId(7));
    });

    it('does nothing when the file dialog is cancelled', async () => {
      fakeCommands.meetingImport.mockResolvedValue(ok(null));
      const { user } = renderMeetings();
      await screen.findByTestId('meetings-empty');
      await user.click(screen.getByTestId('meetings-import'));
      await waitFor(() => {
        expect(fakeCommands.meetingImport).toHaveBeenCalledTimes(1);
      });
      expect(screen.queryByTestId('import-preview')).not.toBeInTheDocument();
      expect(screen.queryByTestId('meetings-error')).not.toBeInTheDocument();
    });

    it('says what is wrong with a file that cannot be read, with its line', async () => {
      fakeCommands.meetingImport.mockResolvedValue(
        failed(
          commandError('invalid_input', {
            message: 'This calendar file cannot be read: line 12: DTSTART is not a date.',
          }),
        ),
      );
      const { user } = renderMeetings();
      await user.click(screen.getByTestId('meetings-import'));
      expect(await screen.findByTestId('meetings-error')).toHaveTextContent(
        'The calendar file could not be read: This calendar file cannot be read: line 12: DTSTART is not a date.',
      );
      expect(screen.queryByTestId('import-preview')).not.toBeInTheDocument();
    });
  });
});
