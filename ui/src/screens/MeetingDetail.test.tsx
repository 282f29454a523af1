import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { MeetingDetail as Detail } from '../api';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, failed, liLei, ok } from '../test/fixtures';
import { chenLi, meetingDetail, meetingId, person, rsvpItem, zhouJie } from '../test/meetings';
import { MeetingDetail } from './MeetingDetail';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

function renderDetail(detail: Detail = meetingDetail()) {
  fakeCommands.meetingDetail.mockResolvedValue(ok(detail));
  const onBack = vi.fn();
  const onEdit = vi.fn();
  const user = userEvent.setup();
  const view = render(
    <MeetingDetail meetingId={detail.id} changes={0} onBack={onBack} onEdit={onEdit} />,
  );
  const changed = (changes: number) => {
    view.rerender(
      <MeetingDetail meetingId={detail.id} changes={changes} onBack={onBack} onEdit={onEdit} />,
    );
  };
  return { user, onBack, onEdit, changed };
}

/** Lets answers already on their way land, before looking for what they did not do. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

const organisersView = () =>
  meetingDetail({
    my_role: 'organiser',
    organiser_id: liLei.id,
    organiser_name: liLei.display_name,
    people: [
      person(zhouJie, {
        answer: 'accept',
        note: 'Bringing the forecast',
        reached_at: '2026-03-01T02:00:00Z',
        opened_at: '2026-03-01T03:00:00Z',
      }),
      person(chenLi, { answer: 'decline', note: 'On leave', reached_at: '2026-03-01T02:00:00Z' }),
      person({ id: '0190d4a0-0000-7000-8000-0000000000a4', name: '刘洋' }),
    ],
  });

describe('MeetingDetail', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('shows what, when, where, who organises it and the agenda', async () => {
    renderDetail(meetingDetail({ place: 'Building A', online_link: 'https://meet.example.com/x' }));
    expect(await screen.findByTestId('meeting-title')).toHaveTextContent('Budget review #1');
    await waitFor(() => {
      expect(screen.getByTestId('meeting-title')).toHaveFocus();
    });
    const when = screen.getByTestId('meeting-when');
    expect(when).toHaveTextContent('09:00 – 10:00');
    expect(when).toHaveTextContent(`(${meetingDetail().time_zone})`);
    // Same zone as the organiser: nothing more to say.
    expect(screen.queryByTestId('meeting-organiser-zone')).not.toBeInTheDocument();
    expect(screen.getByTestId('meeting-room')).toHaveTextContent('Room 301');
    expect(screen.getByTestId('meeting-place')).toHaveTextContent('Building A');
    // The link opens through the core (system browser), never as a web view navigation.
    expect(within(screen.getByTestId('meeting-link')).queryByRole('link')).not.toBeInTheDocument();
    expect(screen.getByTestId('meeting-open-link')).toHaveTextContent('https://meet.example.com/x');
    expect(screen.getByTestId('meeting-organiser')).toHaveTextContent('王芳');
    expect(screen.getByTestId('meeting-status')).toHaveTextContent('Scheduled');
    expect(screen.getByTestId('meeting-agenda')).toHaveTextContent('1. Last quarter 2. Next quarter');
    expect(screen.getByTestId('meeting-agenda').textContent).toContain('\n');
    expect(screen.queryByTestId('meeting-changed')).not.toBeInTheDocument();
  });

  it('says the organiser’s time when they planned it in another zone', async () => {
    renderDetail(
      meetingDetail({
        starts_at: '2026-03-04T01:00:00Z',
        ends_at: '2026-03-04T02:00:00Z',
        organiser_time_zone: 'America/New_York',
        time_zone: 'Asia/Shanghai',
      }),
    );
    const note = await screen.findByTestId('meeting-organiser-zone');
    expect(note).toHaveTextContent('For the organiser:');
    expect(note).toHaveTextContent('20:00');
    expect(note).toHaveTextContent('21:00');
    expect(note).toHaveTextContent('(America/New_York)');
  });

  it('shows a link that is not a web address as text, never as a link', async () => {
    renderDetail(meetingDetail({ online_link: 'javascript:alert(1)' }));
    const link = await screen.findByTestId('meeting-link');
    expect(link).toHaveTextContent('javascript:alert(1)');
    expect(within(link).queryByRole('link')).not.toBeInTheDocument();
    expect(screen.queryByTestId('meeting-open-link')).not.toBeInTheDocument();
  });

  it('opens the online link in the system browser through the core, and says why it could not', async () => {
    fakeCommands.openMeetingLink.mockResolvedValueOnce(ok(null));
    const { user } = renderDetail(meetingDetail({ online_link: 'https://meet.example.com/x' }));
    await user.click(await screen.findByTestId('meeting-open-link'));
    expect(fakeCommands.openMeetingLink).toHaveBeenCalledWith(meetingId(1));
    await settled();
    expect(screen.queryByTestId('meeting-error')).not.toBeInTheDocument();

    fakeCommands.openMeetingLink.mockResolvedValueOnce(
      failed(commandError('refused', { message: 'This meeting has no web link to open.' })),
    );
    await user.click(screen.getByTestId('meeting-open-link'));
    expect(await screen.findByTestId('meeting-error')).toHaveTextContent(
      'The link could not be opened: This meeting has no web link to open.',
    );
  });

  it('lists the materials with their sizes and opens one with the system’s app', async () => {
    fakeCommands.openAttachment.mockResolvedValue(ok(null));
    const { user } = renderDetail();
    const materials = await screen.findAllByTestId('material');
    expect(materials).toHaveLength(2);
    const [budget, minutes] = materials as [HTMLElement, HTMLElement];
    expect(budget).toHaveAttribute('data-attachment-id', '0190d4a0-4000-7000-8000-000000000001');
    expect(budget).toHaveTextContent('budget-2026.xlsx');
    expect(budget).toHaveTextContent('47 KB');
    expect(minutes).toHaveTextContent('900 B');

    await user.click(within(minutes).getByRole('button', { name: 'Open minutes.pdf' }));
    expect(fakeCommands.openAttachment).toHaveBeenCalledWith('0190d4a0-4000-7000-8000-000000000002');
  });

  it('says why a material cannot be opened', async () => {
    fakeCommands.openAttachment.mockResolvedValue(failed(commandError('server_unreachable')));
    const { user } = renderDetail();
    const [budget] = (await screen.findAllByTestId('material')) as [HTMLElement];
    await user.click(within(budget).getByRole('button', { name: 'Open budget-2026.xlsx' }));
    expect(await within(budget).findByRole('alert')).toHaveTextContent(
      '“budget-2026.xlsx” is not on this computer yet, and the server cannot be reached',
    );
  });

  it('answers with the note typed, then shows the answer as the pressed one', async () => {
    const { user } = renderDetail();
    expect(await screen.findByTestId('meeting-my-answer')).toHaveTextContent('Not answered');
    for (const answer of ['accept', 'tentative', 'decline']) {
      expect(screen.getByTestId(`rsvp-${answer}`)).toHaveAttribute('aria-pressed', 'false');
    }
    fakeCommands.rsvp.mockResolvedValue(ok(rsvpItem({ action: 'rsvp_tentative' })));
    fakeCommands.meetingDetail.mockResolvedValue(
      ok(meetingDetail({ my_answer: 'tentative', my_note: 'Joining after 9:30' })),
    );

    await user.type(screen.getByTestId('rsvp-note'), '  Joining after 9:30 ');
    await user.click(screen.getByTestId('rsvp-tentative'));

    expect(fakeCommands.rsvp).toHaveBeenCalledWith(meetingId(1), 'tentative', 'Joining after 9:30');
    await waitFor(() => {
      expect(screen.getByTestId('rsvp-tentative')).toHaveAttribute('aria-pressed', 'true');
    });
    expect(screen.getByTestId('rsvp-accept')).toHaveAttribute('aria-pressed', 'false');
    expect(screen.getByTestId('rsvp-decline')).toHaveAttribute('aria-pressed', 'false');
    expect(screen.getByTestId('meeting-my-answer')).toHaveTextContent('Tentative');
    expect(screen.getByTestId('rsvp-note')).toHaveValue('Joining after 9:30');
    expect(screen.getByTestId('rsvp-saved')).toHaveTextContent('Your answer (Tentative) is saved.');
    expect(fakeCommands.meetingDetail).toHaveBeenCalledTimes(2);
  });

  it('answers without a note as null', async () => {
    fakeCommands.rsvp.mockResolvedValue(ok(rsvpItem()));
    const { user } = renderDetail();
    await user.click(await screen.findByTestId('rsvp-accept'));
    expect(fakeCommands.rsvp).toHaveBeenCalledWith(meetingId(1), 'accept', null);
  });

  it('speaks Chinese: the answer, the buttons and the sections', async () => {
    const { i18n } = await import('../i18n');
    await i18n.changeLanguage('zh-CN');
    renderDetail(meetingDetail({ my_answer: 'accept' }));
    expect(await screen.findByTestId('meeting-my-answer')).toHaveTextContent('已接受');
    expect(screen.getByTestId('rsvp-accept')).toHaveTextContent('接受');
    expect(screen.getByTestId('rsvp-tentative')).toHaveTextContent('待定');
    expect(screen.getByTestId('rsvp-decline')).toHaveTextContent('拒绝');
    expect(screen.getByRole('heading', { name: '材料' })).toBeInTheDocument();
    expect(screen.getByRole('heading', { name: '议程' })).toBeInTheDocument();
    expect(screen.getByTestId('meeting-export')).toHaveTextContent('导出日历文件');
  });

  it('shows the core’s reason when an answer is refused', async () => {
    fakeCommands.rsvp.mockResolvedValue(
      failed(commandError('refused', { message: 'You are not invited to “Budget review #1”.' })),
    );
    const { user } = renderDetail();
    await user.click(await screen.findByTestId('rsvp-decline'));
    expect(await screen.findByTestId('meeting-error')).toHaveTextContent(
      'Your answer was not taken: You are not invited to “Budget review #1”.',
    );
    expect(screen.getByTestId('meeting-my-answer')).toHaveTextContent('Not answered');
  });

  it('makes a cancellation plain, with its reason, and offers no answer', async () => {
    renderDetail(
      meetingDetail({ status: 'cancelled', cancel_reason: 'The auditors moved the date.', changed: ['time'] }),
    );
    const status = await screen.findByTestId('meeting-status');
    expect(status).toHaveTextContent('This meeting was cancelled.');
    expect(status).toHaveTextContent('Reason: The auditors moved the date.');
    expect(screen.queryByTestId('rsvp-accept')).not.toBeInTheDocument();
    expect(screen.queryByTestId('rsvp-note')).not.toBeInTheDocument();
    expect(screen.queryByTestId('meeting-my-answer')).not.toBeInTheDocument();
    // The cancellation is the news, not what changed before it.
    expect(screen.queryByTestId('meeting-changed')).not.toBeInTheDocument();
  });

  it('says what the last update changed, by name', async () => {
    renderDetail(meetingDetail({ changed: ['time', 'online_link', 'materials'] }));
    expect(await screen.findByTestId('meeting-changed')).toHaveTextContent(
      'Changed in the last update: time, online link, materials.',
    );
  });

  it('shows the organiser every answer, note and whether each invitation arrived and was opened', async () => {
    renderDetail(organisersView());
    const people = await screen.findAllByTestId('meeting-person');
    expect(people).toHaveLength(3);
    const [zhou, chen, liu] = people as [HTMLElement, HTMLElement, HTMLElement];
    expect(within(zhou).getByTestId('meeting-person-answer')).toHaveTextContent('Accepted');
    expect(zhou).toHaveTextContent('Bringing the forecast');
    expect(within(zhou).getByTestId('meeting-person-delivery')).toHaveTextContent(/^Opened /);
    expect(within(chen).getByTestId('meeting-person-answer')).toHaveTextContent('Declined');
    expect(chen).toHaveTextContent('On leave');
    expect(within(chen).getByTestId('meeting-person-delivery')).toHaveTextContent(/^Received /);
    expect(within(liu).getByTestId('meeting-person-answer')).toHaveTextContent('Not answered');
    expect(within(liu).getByTestId('meeting-person-delivery')).toHaveTextContent('Not received yet');
    const summary = screen.getByTestId('meeting-answer-summary');
    expect(summary).toHaveTextContent('Accepted: 1');
    expect(summary).toHaveTextContent('Tentative: 0');
    expect(summary).toHaveTextContent('Declined: 1');
    expect(summary).toHaveTextContent('Not answered: 1');
    // The organiser does not answer their own meeting.
    expect(screen.queryByTestId('rsvp-accept')).not.toBeInTheDocument();
  });

  it('shows an invitee the people, with no one’s answer but their own', async () => {
    renderDetail(
      meetingDetail({
        my_answer: 'accept',
        people: [
          person({ id: liLei.id, name: liLei.display_name }, { answer: 'accept' }),
          person(zhouJie),
        ],
      }),
    );
    const [me, zhou] = (await screen.findAllByTestId('meeting-person')) as [HTMLElement, HTMLElement];
    expect(me).toHaveTextContent('李雷');
    expect(within(me).getByTestId('meeting-person-answer')).toHaveTextContent('Accepted');
    expect(zhou).toHaveTextContent('周杰');
    expect(within(zhou).queryByTestId('meeting-person-answer')).not.toBeInTheDocument();
    expect(within(zhou).queryByTestId('meeting-person-delivery')).not.toBeInTheDocument();
    expect(screen.queryByTestId('meeting-answer-summary')).not.toBeInTheDocument();
  });

  it('saves the meeting as a calendar file and says under which name', async () => {
    fakeCommands.meetingExport.mockResolvedValue(ok('Budget review #1.ics'));
    const { user } = renderDetail();
    await user.click(await screen.findByTestId('meeting-export'));
    expect(fakeCommands.meetingExport).toHaveBeenCalledWith(meetingId(1));
    expect(await screen.findByTestId('meeting-export-done')).toHaveTextContent(
      'Saved as Budget review #1.ics.',
    );
  });

  it('says nothing when the save dialog is cancelled', async () => {
    fakeCommands.meetingExport.mockResolvedValue(ok(null));
    const { user } = renderDetail();
    await user.click(await screen.findByTestId('meeting-export'));
    await waitFor(() => {
      expect(fakeCommands.meetingExport).toHaveBeenCalledTimes(1);
    });
    // Let the answer land before looking for what it did not do.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(screen.queryByTestId('meeting-export-done')).not.toBeInTheDocument();
    expect(screen.queryByTestId('meeting-error')).not.toBeInTheDocument();
  });

  it('says why the file could not be saved', async () => {
    fakeCommands.meetingExport.mockResolvedValue(
      failed(commandError('file_unreadable', { message: 'Cannot write /home/li/x.ics: read-only file system' })),
    );
    const { user } = renderDetail();
    await user.click(await screen.findByTestId('meeting-export'));
    expect(await screen.findByTestId('meeting-error')).toHaveTextContent(
      'The calendar file could not be saved: Cannot write /home/li/x.ics: read-only file system',
    );
  });

  it('reads the meeting again when a sync brings a change, such as its cancellation', async () => {
    const { changed } = renderDetail();
    expect(await screen.findByTestId('rsvp-accept')).toBeInTheDocument();
    fakeCommands.meetingDetail.mockResolvedValue(
      ok(meetingDetail({ status: 'cancelled', cancel_reason: 'Room flooded' })),
    );
    changed(1);
    expect(await screen.findByText('Reason: Room flooded')).toBeInTheDocument();
    expect(screen.queryByTestId('rsvp-accept')).not.toBeInTheDocument();
  });

  it('says so when the meeting is not on this computer, and goes back', async () => {
    fakeCommands.meetingDetail.mockResolvedValue(failed(commandError('not_found')));
    const onBack = vi.fn();
    const user = userEvent.setup();
    render(<MeetingDetail meetingId={meetingId(9)} changes={0} onBack={onBack} />);
    expect(await screen.findByTestId('meeting-not-found')).toHaveTextContent(
      'This meeting is not on this computer',
    );
    await user.click(screen.getByTestId('meeting-back'));
    expect(onBack).toHaveBeenCalled();
  });

  describe('for its organiser', () => {
    it('offers Edit, Add materials and Cancel to the organiser, never to an invitee or once cancelled', async () => {
      const organiser = renderDetail(organisersView());
      expect(await screen.findByTestId('meeting-edit')).toHaveTextContent('Edit');
      expect(screen.getByTestId('meeting-add-materials')).toHaveTextContent('Add materials…');
      expect(screen.getByTestId('meeting-cancel')).toHaveTextContent('Cancel meeting…');
      await organiser.user.click(screen.getByTestId('meeting-edit'));
      expect(organiser.onEdit).toHaveBeenCalledWith(organisersView());
    });

    it('offers an invitee none of them', async () => {
      renderDetail();
      expect(await screen.findByTestId('rsvp-accept')).toBeInTheDocument();
      expect(screen.queryByTestId('meeting-edit')).not.toBeInTheDocument();
      expect(screen.queryByTestId('meeting-add-materials')).not.toBeInTheDocument();
      expect(screen.queryByTestId('meeting-cancel')).not.toBeInTheDocument();
    });

    it('offers none of them once the meeting is cancelled', async () => {
      renderDetail({ ...organisersView(), status: 'cancelled', cancel_reason: 'Moved' });
      expect(await screen.findByText('Reason: Moved')).toBeInTheDocument();
      expect(screen.queryByTestId('meeting-edit')).not.toBeInTheDocument();
      expect(screen.queryByTestId('meeting-add-materials')).not.toBeInTheDocument();
      expect(screen.queryByTestId('meeting-cancel')).not.toBeInTheDocument();
    });

    it('adds materials: nothing when the dialog is closed, the meeting read again when files were added', async () => {
      const { user } = renderDetail(organisersView());
      fakeCommands.meetingAddMaterials.mockResolvedValueOnce(ok(false));
      await user.click(await screen.findByTestId('meeting-add-materials'));
      expect(fakeCommands.meetingAddMaterials).toHaveBeenCalledWith(meetingId(1));
      await settled();
      expect(fakeCommands.meetingDetail).toHaveBeenCalledTimes(1);
      expect(screen.queryByTestId('meeting-error')).not.toBeInTheDocument();

      fakeCommands.meetingAddMaterials.mockResolvedValueOnce(ok(true));
      const before = organisersView();
      fakeCommands.meetingDetail.mockResolvedValue(
        ok({
          ...before,
          materials: [
            ...before.materials,
            { id: '0190d4a0-4000-7000-8000-000000000003', name: 'agenda.docx', size: 2048, content_type: 'application/msword' },
          ],
        }),
      );
      await user.click(screen.getByTestId('meeting-add-materials'));
      await waitFor(() => {
        expect(screen.getAllByTestId('material')).toHaveLength(3);
      });
      expect(fakeCommands.meetingDetail).toHaveBeenCalledTimes(2);
    });

    it('says why materials were not added, in the core’s words', async () => {
      fakeCommands.meetingAddMaterials.mockResolvedValue(
        failed(
          commandError('file_too_large', { message: '“scan.tiff” is 80 MB; materials can be up to 20 MB.' }),
        ),
      );
      const { user } = renderDetail(organisersView());
      await user.click(await screen.findByTestId('meeting-add-materials'));
      expect(await screen.findByTestId('meeting-error')).toHaveTextContent(
        'The materials were not added: “scan.tiff” is 80 MB; materials can be up to 20 MB.',
      );
    });

    it('cancels with the reason typed, after asking, and shows the meeting cancelled', async () => {
      fakeCommands.meetingCancel.mockResolvedValue(ok(null));
      const { user } = renderDetail(organisersView());
      await user.click(await screen.findByTestId('meeting-cancel'));
      const dialog = screen.getByTestId('meeting-cancel-dialog');
      expect(dialog).toHaveTextContent('Cancel “Budget review #1”?');
      // The safe answer has the focus.
      expect(within(dialog).getByRole('button', { name: 'Keep the meeting' })).toHaveFocus();
      expect(fakeCommands.meetingCancel).not.toHaveBeenCalled();

      await user.type(screen.getByTestId('meeting-cancel-reason'), '  The auditors moved the date. ');
      fakeCommands.meetingDetail.mockResolvedValue(
        ok({ ...organisersView(), status: 'cancelled', cancel_reason: 'The auditors moved the date.' }),
      );
      await user.click(screen.getByTestId('meeting-cancel-confirm'));

      expect(fakeCommands.meetingCancel).toHaveBeenCalledWith(meetingId(1), 'The auditors moved the date.');
      expect(await screen.findByText('Reason: The auditors moved the date.')).toBeInTheDocument();
      expect(screen.queryByTestId('meeting-cancel-dialog')).not.toBeInTheDocument();
      expect(screen.queryByTestId('meeting-cancel')).not.toBeInTheDocument();
    });

    it('cancels without a reason as null, and keeps nothing when called off', async () => {
      fakeCommands.meetingCancel.mockResolvedValue(ok(null));
      const { user } = renderDetail(organisersView());
      await user.click(await screen.findByTestId('meeting-cancel'));
      await user.keyboard('{Escape}');
      expect(screen.queryByTestId('meeting-cancel-dialog')).not.toBeInTheDocument();
      expect(fakeCommands.meetingCancel).not.toHaveBeenCalled();

      await user.click(screen.getByTestId('meeting-cancel'));
      expect(screen.getByTestId('meeting-cancel-reason')).toHaveValue('');
      await user.click(screen.getByTestId('meeting-cancel-confirm'));
      expect(fakeCommands.meetingCancel).toHaveBeenCalledWith(meetingId(1), null);
    });

    it('says in the dialog why the cancellation was refused, keeping the reason typed', async () => {
      fakeCommands.meetingCancel.mockResolvedValue(
        failed(
          commandError('refused', {
            message: '“Budget review #1” was changed elsewhere since this device last synced it; look at it again.',
          }),
        ),
      );
      const { user } = renderDetail(organisersView());
      await user.click(await screen.findByTestId('meeting-cancel'));
      await user.type(screen.getByTestId('meeting-cancel-reason'), 'Room flooded');
      await user.click(screen.getByTestId('meeting-cancel-confirm'));
      const dialog = screen.getByTestId('meeting-cancel-dialog');
      expect(await within(dialog).findByRole('alert')).toHaveTextContent(
        'The meeting was not cancelled: “Budget review #1” was changed elsewhere since this device last synced it; look at it again.',
      );
      expect(screen.getByTestId('meeting-cancel-reason')).toHaveValue('Room flooded');
    });

    it('speaks Chinese on the organiser’s buttons', async () => {
      const { i18n } = await import('../i18n');
      await i18n.changeLanguage('zh-CN');
      renderDetail(organisersView());
      expect(await screen.findByTestId('meeting-edit')).toHaveTextContent('修改');
      expect(screen.getByTestId('meeting-add-materials')).toHaveTextContent('添加材料');
      expect(screen.getByTestId('meeting-cancel')).toHaveTextContent('取消会议');
    });
  });
});
