import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DirectoryEntry, MeetingChange, MeetingDetail, MeetingForm } from '../api';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, failed, ok } from '../test/fixtures';
import { chenLi, meetingDetail, meetingId, person, zhouJie } from '../test/meetings';
import { blankDraft, draftFromDetail } from './meetingFormat';
import { NewMeeting } from './NewMeeting';

// Planned in Shanghai: 09:00 there is 01:00 UTC.
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

const sunHui: DirectoryEntry = {
  id: '0190d4a0-0000-7000-8000-000000000002',
  kind: 'people',
  name: '孙慧',
  detail: '财务部',
  active: true,
};
const finance: DirectoryEntry = {
  id: '0190d4a0-0000-7000-8000-0000000000d1',
  kind: 'departments',
  name: '财务部',
  detail: 'FIN',
  active: true,
};
const room301 = { id: '0190d4a0-5000-7000-8000-000000000301', name: 'Room 301', capacity: 12 };
const room502 = { id: '0190d4a0-5000-7000-8000-000000000502', name: 'Room 502', capacity: null };

function renderForm() {
  const onCancel = vi.fn();
  const onCreated = vi.fn();
  const user = userEvent.setup();
  render(<NewMeeting draft={blankDraft()} onCancel={onCancel} onCreated={onCreated} />);
  return { user, onCancel, onCreated };
}

/** Fills in everything but who is invited. */
async function fillIn(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByTestId('new-meeting-title'), 'Quarterly budget');
  await user.clear(screen.getByTestId('new-meeting-date'));
  await user.type(screen.getByTestId('new-meeting-date'), '2026-03-02');
  await user.clear(screen.getByTestId('new-meeting-start'));
  await user.type(screen.getByTestId('new-meeting-start'), '09:00');
  await user.clear(screen.getByTestId('new-meeting-end'));
  await user.type(screen.getByTestId('new-meeting-end'), '10:30');
  await user.type(screen.getByTestId('new-meeting-place'), 'Building A');
  await user.type(screen.getByTestId('new-meeting-link'), 'https://meet.example.com/q1');
  await user.type(screen.getByTestId('new-meeting-agenda'), 'Numbers{Enter}Plans');
}

async function choose(user: ReturnType<typeof userEvent.setup>, label: string, text: string, name: string) {
  await user.type(screen.getByRole('combobox', { name: label }), text);
  await user.click(await screen.findByRole('option', { name: new RegExp(name) }));
}

describe('NewMeeting', () => {
  beforeEach(() => {
    resetFakeCommands();
    fakeCommands.rooms.mockResolvedValue(ok([room301, room502]));
    fakeCommands.directorySearch.mockImplementation((query) =>
      Promise.resolve(ok([sunHui, finance].filter((entry) => entry.kind === query.kind))),
    );
    fakeCommands.directoryNames.mockImplementation((ids) =>
      Promise.resolve(ok([sunHui, finance].filter((entry) => ids.includes(entry.id)))),
    );
  });

  it('sends the meeting with its times in UTC, the zone it was planned in, the room and who is invited', async () => {
    fakeCommands.meetingNew.mockResolvedValue(ok(meetingId(5)));
    const { user, onCreated } = renderForm();
    expect(screen.getByTestId('new-meeting-title')).toHaveFocus();
    await fillIn(user);
    await waitFor(() => {
      expect(within(screen.getByTestId('new-meeting-room')).getAllByRole('option')).toHaveLength(3);
    });
    expect(screen.getByRole('option', { name: 'Room 301 (12 seats)' })).toBeInTheDocument();
    await user.selectOptions(screen.getByTestId('new-meeting-room'), 'Room 301 (12 seats)');
    await choose(user, 'Invite people', '孙', '孙慧');
    await choose(user, 'Invite departments', '财务', '财务部');
    expect(screen.getByTestId('new-meeting-people-chosen')).toHaveTextContent('孙慧');
    expect(screen.getByTestId('new-meeting-departments-chosen')).toHaveTextContent('财务部');

    await user.click(screen.getByTestId('new-meeting-submit'));

    expect(fakeCommands.meetingNew).toHaveBeenCalledWith({
      title: 'Quarterly budget',
      agenda: 'Numbers\nPlans',
      starts_at: '2026-03-02T01:00:00.000Z',
      ends_at: '2026-03-02T02:30:00.000Z',
      time_zone: 'Asia/Shanghai',
      room: room301.id,
      place: 'Building A',
      online_link: 'https://meet.example.com/q1',
      invite: [],
      departments: [],
      invite_ids: [sunHui.id],
      department_ids: [finance.id],
    } satisfies MeetingForm);
    await waitFor(() => {
      expect(onCreated).toHaveBeenCalledWith(meetingId(5));
    });
  });

  it('shows the server’s refusal word for word and keeps everything typed', async () => {
    fakeCommands.meetingNew.mockResolvedValue(
      failed(
        commandError('server_error', {
          message: 'Room 301 is already booked 09:30–11:00 for “Audit kick-off”.',
        }),
      ),
    );
    const { user, onCreated } = renderForm();
    await fillIn(user);
    await choose(user, 'Invite people', '孙', '孙慧');
    await user.click(screen.getByTestId('new-meeting-submit'));

    expect(await screen.findByTestId('new-meeting-error')).toHaveTextContent(
      'The meeting was not planned: Room 301 is already booked 09:30–11:00 for “Audit kick-off”.',
    );
    expect(onCreated).not.toHaveBeenCalled();
    expect(screen.getByTestId('new-meeting-title')).toHaveValue('Quarterly budget');
    expect(screen.getByTestId('new-meeting-date')).toHaveValue('2026-03-02');
    expect(screen.getByTestId('new-meeting-start')).toHaveValue('09:00');
    expect(screen.getByTestId('new-meeting-end')).toHaveValue('10:30');
    expect(screen.getByTestId('new-meeting-place')).toHaveValue('Building A');
    expect(screen.getByTestId('new-meeting-agenda')).toHaveValue('Numbers\nPlans');
    expect(screen.getByTestId('new-meeting-people-chosen')).toHaveTextContent('孙慧');

    // Fixed and sent again, the same form goes.
    fakeCommands.meetingNew.mockResolvedValue(ok(meetingId(6)));
    await user.clear(screen.getByTestId('new-meeting-start'));
    await user.type(screen.getByTestId('new-meeting-start'), '08:00');
    await user.click(screen.getByTestId('new-meeting-submit'));
    await waitFor(() => {
      expect(onCreated).toHaveBeenCalledWith(meetingId(6));
    });
    expect(fakeCommands.meetingNew.mock.calls.at(-1)?.[0]).toMatchObject({
      starts_at: '2026-03-02T00:00:00.000Z',
      invite_ids: [sunHui.id],
    });
  });

  it('lets a meeting be planned without a room when the rooms cannot be listed', async () => {
    fakeCommands.rooms.mockResolvedValue(failed(commandError('server_unreachable', { url: 'https://oa.example.com' })));
    fakeCommands.meetingNew.mockResolvedValue(ok(meetingId(5)));
    const { user } = renderForm();
    expect(await screen.findByTestId('new-meeting-rooms-failed')).toHaveTextContent(
      'The rooms could not be listed: Cannot reach https://oa.example.com.',
    );
    expect(screen.getByTestId('new-meeting-room')).toHaveValue('');
    await fillIn(user);
    await user.click(screen.getByTestId('new-meeting-submit'));
    expect(fakeCommands.meetingNew).toHaveBeenCalledWith(
      expect.objectContaining({ room: null, invite_ids: [], department_ids: [] }),
    );
  });

  it('removes someone chosen by mistake', async () => {
    fakeCommands.meetingNew.mockResolvedValue(ok(meetingId(5)));
    const { user } = renderForm();
    await fillIn(user);
    await choose(user, 'Invite people', '孙', '孙慧');
    await user.click(screen.getByRole('button', { name: 'Remove 孙慧' }));
    expect(screen.queryByTestId('new-meeting-people-chosen')).not.toBeInTheDocument();
    await user.click(screen.getByTestId('new-meeting-submit'));
    expect(fakeCommands.meetingNew).toHaveBeenCalledWith(expect.objectContaining({ invite_ids: [] }));
  });

  it('asks for the times instead of sending a meeting without them', async () => {
    const { user } = renderForm();
    await user.type(screen.getByTestId('new-meeting-title'), 'No time');
    await user.clear(screen.getByTestId('new-meeting-start'));
    await user.click(screen.getByTestId('new-meeting-submit'));
    expect(await screen.findByTestId('new-meeting-error')).toHaveTextContent(
      'Choose a date, a start time and an end time.',
    );
    expect(fakeCommands.meetingNew).not.toHaveBeenCalled();
  });

  it('goes back without sending anything', async () => {
    const { user, onCancel } = renderForm();
    await user.type(screen.getByTestId('new-meeting-title'), 'Never mind');
    await user.click(screen.getByTestId('new-meeting-cancel'));
    expect(onCancel).toHaveBeenCalled();
    expect(fakeCommands.meetingNew).not.toHaveBeenCalled();
  });

  describe('changing a meeting', () => {
    // 09:00–10:30 on 4 March 2026 in Shanghai, in Room 301, as its organiser reads it.
    const planned = (overrides: Partial<MeetingDetail> = {}) =>
      meetingDetail({
        title: 'Quarterly budget',
        agenda: 'Numbers\nPlans',
        starts_at: '2026-03-04T01:00:00Z',
        ends_at: '2026-03-04T02:30:00Z',
        room: room301.name,
        room_id: room301.id,
        place: 'Building A',
        online_link: 'https://meet.example.com/q1',
        my_role: 'organiser',
        people: [person(zhouJie), person(chenLi)],
        ...overrides,
      });

    function renderEdit(detail: MeetingDetail = planned()) {
      const onCancel = vi.fn();
      const onCreated = vi.fn();
      const user = userEvent.setup();
      render(
        <NewMeeting
          draft={draftFromDetail(detail)}
          editing={{ meetingId: detail.id, roomId: detail.room_id, roomName: detail.room }}
          onCancel={onCancel}
          onCreated={onCreated}
        />,
      );
      return { user, onCancel, onCreated };
    }

    it('starts from the plan as it is, on this computer’s clock, naming the invitees without changing them', async () => {
      renderEdit();
      const form = screen.getByTestId('new-meeting');
      expect(form).toHaveAttribute('data-mode', 'edit');
      expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Edit meeting');
      expect(screen.getByTestId('new-meeting-title')).toHaveValue('Quarterly budget');
      expect(screen.getByTestId('new-meeting-date')).toHaveValue('2026-03-04');
      expect(screen.getByTestId('new-meeting-start')).toHaveValue('09:00');
      expect(screen.getByTestId('new-meeting-end')).toHaveValue('10:30');
      expect(screen.getByTestId('new-meeting-place')).toHaveValue('Building A');
      expect(screen.getByTestId('new-meeting-link')).toHaveValue('https://meet.example.com/q1');
      expect(screen.getByTestId('new-meeting-agenda')).toHaveValue('Numbers\nPlans');
      await waitFor(() => {
        expect(within(screen.getByTestId('new-meeting-room')).getAllByRole('option')).toHaveLength(3);
      });
      expect(screen.getByTestId('new-meeting-room')).toHaveValue(room301.id);
      const invitees = screen.getByTestId('new-meeting-invitees');
      expect(invitees).toHaveTextContent('周杰');
      expect(invitees).toHaveTextContent('陈丽');
      expect(screen.queryByRole('combobox', { name: 'Invite people' })).not.toBeInTheDocument();
      expect(screen.queryByRole('combobox', { name: 'Invite departments' })).not.toBeInTheDocument();
      expect(screen.getByTestId('new-meeting-submit')).toHaveTextContent('Save changes');
    });

    it('sends the whole plan as it should be now, in UTC, with the room by id', async () => {
      fakeCommands.meetingEdit.mockResolvedValue(ok(null));
      const { user, onCreated } = renderEdit();
      await waitFor(() => {
        expect(within(screen.getByTestId('new-meeting-room')).getAllByRole('option')).toHaveLength(3);
      });
      await user.clear(screen.getByTestId('new-meeting-start'));
      await user.type(screen.getByTestId('new-meeting-start'), '10:00');
      await user.clear(screen.getByTestId('new-meeting-end'));
      await user.type(screen.getByTestId('new-meeting-end'), '11:00');
      await user.selectOptions(screen.getByTestId('new-meeting-room'), 'Room 502');
      await user.clear(screen.getByTestId('new-meeting-place'));
      await user.click(screen.getByTestId('new-meeting-submit'));

      expect(fakeCommands.meetingEdit).toHaveBeenCalledWith(meetingId(1), {
        title: 'Quarterly budget',
        agenda: 'Numbers\nPlans',
        starts_at: '2026-03-04T02:00:00.000Z',
        ends_at: '2026-03-04T03:00:00.000Z',
        room: room502.id,
        place: null,
        online_link: 'https://meet.example.com/q1',
      } satisfies MeetingChange);
      expect(fakeCommands.meetingNew).not.toHaveBeenCalled();
      await waitFor(() => {
        expect(onCreated).toHaveBeenCalledWith(meetingId(1));
      });
    });

    it('shows a refusal word for word and keeps everything typed', async () => {
      fakeCommands.meetingEdit.mockResolvedValue(
        failed(
          commandError('refused', {
            message: 'Room 502 is already booked 09:30–11:00 for “Audit kick-off”.',
          }),
        ),
      );
      const { user, onCreated } = renderEdit();
      await waitFor(() => {
        expect(within(screen.getByTestId('new-meeting-room')).getAllByRole('option')).toHaveLength(3);
      });
      await user.clear(screen.getByTestId('new-meeting-title'));
      await user.type(screen.getByTestId('new-meeting-title'), 'Budget, second pass');
      await user.selectOptions(screen.getByTestId('new-meeting-room'), 'Room 502');
      await user.clear(screen.getByTestId('new-meeting-start'));
      await user.type(screen.getByTestId('new-meeting-start'), '09:30');
      await user.click(screen.getByTestId('new-meeting-submit'));

      expect(await screen.findByTestId('new-meeting-error')).toHaveTextContent(
        'The meeting was not changed: Room 502 is already booked 09:30–11:00 for “Audit kick-off”.',
      );
      expect(onCreated).not.toHaveBeenCalled();
      expect(screen.getByTestId('new-meeting-title')).toHaveValue('Budget, second pass');
      expect(screen.getByTestId('new-meeting-start')).toHaveValue('09:30');
      expect(screen.getByTestId('new-meeting-room')).toHaveValue(room502.id);
      expect(screen.getByTestId('new-meeting-agenda')).toHaveValue('Numbers\nPlans');
    });

    it('keeps the booked room when the rooms cannot be listed', async () => {
      fakeCommands.rooms.mockResolvedValue(failed(commandError('server_unreachable')));
      fakeCommands.meetingEdit.mockResolvedValue(ok(null));
      const { user } = renderEdit();
      expect(await screen.findByTestId('new-meeting-rooms-failed')).toBeInTheDocument();
      expect(screen.getByTestId('new-meeting-room')).toHaveValue(room301.id);
      expect(screen.getByRole('option', { name: 'Room 301' })).toBeInTheDocument();
      await user.click(screen.getByTestId('new-meeting-submit'));
      expect(fakeCommands.meetingEdit).toHaveBeenCalledWith(
        meetingId(1),
        expect.objectContaining({ room: room301.id }),
      );
    });

    it('keeps a meeting that runs past midnight ending on its own day', async () => {
      fakeCommands.meetingEdit.mockResolvedValue(ok(null));
      // 22:00 on 4 March to 01:00 on 5 March in Shanghai.
      const { user } = renderEdit(
        planned({ starts_at: '2026-03-04T14:00:00Z', ends_at: '2026-03-04T17:00:00Z', room_id: null, room: null }),
      );
      expect(screen.getByTestId('new-meeting-end')).toHaveValue('01:00');
      expect(screen.getByTestId('new-meeting-ends-later')).toHaveTextContent('Ends on');
      await user.click(screen.getByTestId('new-meeting-submit'));
      expect(fakeCommands.meetingEdit).toHaveBeenCalledWith(
        meetingId(1),
        expect.objectContaining({
          starts_at: '2026-03-04T14:00:00.000Z',
          ends_at: '2026-03-04T17:00:00.000Z',
          room: null,
        }),
      );
    });

    it('goes back to the meeting without sending anything', async () => {
      const { user, onCancel } = renderEdit();
      await user.click(screen.getByTestId('new-meeting-cancel'));
      expect(onCancel).toHaveBeenCalled();
      expect(fakeCommands.meetingEdit).not.toHaveBeenCalled();
    });
  });
});
