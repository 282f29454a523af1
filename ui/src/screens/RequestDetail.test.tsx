import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DirectoryEntry, RequestDetail as Detail } from '../api';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, failed, ok } from '../test/fixtures';
import { draftView, outboxItem, requestDetail, requestId, sunHui, wangWu, zhaoLiu } from '../test/requests';
import { RequestDetail } from './RequestDetail';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

interface Options {
  detail?: Detail;
  online?: boolean | null;
  startWith?: 'reject' | null;
  /** Who is signed in; 赵六, who holds the pending task of the sample request, unless said. */
  meId?: string | null;
}

function renderDetail({
  detail = requestDetail(),
  online = true,
  startWith = null,
  meId = zhaoLiu.id,
}: Options = {}) {
  fakeCommands.requestDetail.mockResolvedValue(ok(detail));
  const onBack = vi.fn();
  const onOpenDraft = vi.fn();
  const user = userEvent.setup();
  const props = { requestId: detail.id, startWith, online, onBack, meId, onOpenDraft };
  const view = render(<RequestDetail {...props} changes={0} />);
  const changed = (changes: number) => {
    view.rerender(<RequestDetail {...props} changes={changes} />);
  };
  return { user, onBack, onOpenDraft, changed };
}

const wangWuEntry: DirectoryEntry = {
  id: wangWu.id,
  kind: 'people',
  name: wangWu.name,
  detail: '财务部',
  active: true,
};
const leftEntry: DirectoryEntry = {
  id: '0190d4a0-0000-7000-8000-000000000009',
  kind: 'people',
  name: '钱七',
  detail: '财务部',
  active: false,
};

/** The directory on this computer: 王五, and 钱七 who has left. */
function answerDirectory() {
  const everyone = [wangWuEntry, leftEntry];
  fakeCommands.directorySearch.mockImplementation((query) =>
    Promise.resolve(ok(query.kind === 'people' ? everyone : [])),
  );
  fakeCommands.directoryNames.mockImplementation((ids) =>
    Promise.resolve(ok(everyone.filter((entry) => ids.includes(entry.id)))),
  );
}

async function pick(user: ReturnType<typeof userEvent.setup>, text: string, name: string) {
  const picker = screen.getByTestId('transfer-picker');
  await user.type(within(picker).getByRole('combobox', { name: 'Hand it to' }), text);
  await user.click(await within(picker).findByRole('option', { name: new RegExp(name) }));
}

/** The sample request, returned to 孙慧 by 王五 (twice: the latest return says what to fix). */
const returnedToSunHui = () =>
  requestDetail({
    status: 'returned',
    my_tasks: [],
    events: [
      { at: '2026-11-30T01:00:00Z', actor: sunHui, kind: 'submitted', comment: '', other: null },
      {
        at: '2026-11-30T03:15:00Z',
        actor: wangWu,
        kind: 'returned',
        comment: 'Add the taxi receipts',
        other: null,
      },
      { at: '2026-11-30T04:00:00Z', actor: sunHui, kind: 'resubmitted', comment: '', other: null },
      {
        at: '2026-12-01T02:00:00Z',
        actor: wangWu,
        kind: 'returned',
        comment: 'Attach the hotel invoice, please',
        other: null,
      },
    ],
  });

describe('RequestDetail', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('shows the header: title, status, template, who submitted it and the key figures', async () => {
    renderDetail();
    expect(await screen.findByRole('heading', { level: 1 })).toHaveTextContent('Trip to Shanghai');
    expect(screen.getByTestId('request-status')).toHaveTextContent('In progress');
    expect(screen.getByText('Travel expenses')).toBeInTheDocument();
    expect(screen.getByTestId('request-initiator')).toHaveTextContent('孙慧');
    expect(screen.getByText('Total').nextElementSibling).toHaveTextContent('CNY 4,800.00');
    expect(fakeCommands.requestDetail).toHaveBeenCalledWith(requestId(1));
  });

  it('shows the form read-only through the form renderer', async () => {
    renderDetail();
    const form = await screen.findByTestId('read-only-form');
    expect(form).toHaveTextContent('Purpose');
    expect(form).toHaveTextContent('Customer visit');
  });

  it('shows the route: each step, the current one marked, who had it, how long they took, and who was late', async () => {
    renderDetail();
    const steps = await screen.findAllByTestId('timeline-step');
    expect(steps).toHaveLength(3);
    const [manager, finance, cc] = steps as [HTMLElement, HTMLElement, HTMLElement];

    expect(manager).toHaveTextContent('Manager approval');
    expect(manager).not.toHaveAttribute('aria-current');
    expect(within(manager).getByTestId('timeline-task')).toHaveTextContent('王五');
    expect(within(manager).getByTestId('timeline-task')).toHaveTextContent('Approved');
    expect(within(manager).getByTestId('task-duration')).toHaveTextContent(
      'Took 2 h 15 min (1 h 30 min in working hours)',
    );

    expect(finance).toHaveAttribute('aria-current', 'step');
    expect(finance).toHaveTextContent('Now');
    const open = within(finance).getByTestId('timeline-task');
    expect(open).toHaveTextContent('赵六');
    expect(open).toHaveTextContent('on behalf of 孙慧');
    expect(open).toHaveTextContent('Waiting for a decision');
    expect(within(open).getByTestId('task-duration')).toHaveTextContent('Waiting for 1 d 2 h so far');
    expect(within(open).getByTestId('task-late')).toHaveTextContent('Overdue');

    expect(cc).toHaveTextContent('Copy to HR');
    expect(cc).toHaveTextContent('Copied to 王五, 赵六');
  });

  it('says the durations in Chinese too', async () => {
    const { i18n } = await import('../i18n');
    await i18n.changeLanguage('zh-CN');
    renderDetail();
    const durations = await screen.findAllByTestId('task-duration');
    expect(durations[0]).toHaveTextContent('用时 2 小时 15 分（工作时间 1 小时 30 分）');
    expect(screen.getByText('部门经理审批')).toBeInTheDocument();
  });

  it('shows the history with who did what and their comments', async () => {
    renderDetail();
    const entries = await screen.findAllByTestId('history-entry');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toHaveTextContent('孙慧submitted the request');
    expect(entries[1]).toHaveTextContent('王五approved');
    expect(entries[1]).toHaveTextContent('Fine by me');
  });

  it('offers Approve, Reject and Return only to someone with a task on it', async () => {
    renderDetail({ detail: requestDetail({ my_tasks: [] }) });
    await screen.findByTestId('request-actions');
    expect(screen.queryByTestId('act-approve')).not.toBeInTheDocument();
    expect(screen.queryByTestId('act-reject')).not.toBeInTheDocument();
    expect(screen.queryByTestId('act-return')).not.toBeInTheDocument();
    expect(screen.queryByTestId('act-transfer')).not.toBeInTheDocument();
    expect(screen.getByTestId('act-comment')).toBeInTheDocument();
    expect(screen.queryByTestId('act-withdraw')).not.toBeInTheDocument();
    expect(screen.queryByTestId('act-urge')).not.toBeInTheDocument();
  });

  it('offers Withdraw and Urge on the person’s own open request', async () => {
    renderDetail({ detail: requestDetail({ my_tasks: [], mine_and_open: true }) });
    expect(await screen.findByTestId('act-withdraw')).toBeInTheDocument();
    expect(screen.getByTestId('act-urge')).toBeInTheDocument();
  });

  it('will not reject without a reason, and sends the reason given', async () => {
    fakeCommands.act.mockResolvedValue(ok(outboxItem({ action: 'reject' })));
    const { user } = renderDetail();
    await user.click(await screen.findByTestId('act-reject'));
    const reason = screen.getByLabelText('Why are you rejecting it? (required)');
    expect(reason).toHaveFocus();

    await user.click(screen.getByTestId('act-send'));
    expect(screen.getByTestId('comment-missing')).toHaveTextContent('Say why you are rejecting it.');
    expect(reason).toHaveAttribute('aria-invalid', 'true');
    expect(fakeCommands.act).not.toHaveBeenCalled();

    await user.type(reason, 'Over the travel budget');
    await user.click(screen.getByTestId('act-send'));
    expect(fakeCommands.act).toHaveBeenCalledWith(requestId(1), {
      kind: 'reject',
      comment: 'Over the travel budget',
    });
  });

  it('approves offline: says it waits to be sent, then that it was sent once the outbox is empty', async () => {
    const queued = outboxItem({ action: 'approve' });
    fakeCommands.act.mockResolvedValue(ok(queued));
    const { user, changed } = renderDetail({ online: false });
    await user.click(await screen.findByTestId('act-approve'));
    // After the decision the core reads the request with it queued.
    fakeCommands.requestDetail.mockResolvedValue(ok(requestDetail({ my_tasks: [], queued: [queued] })));
    await user.type(screen.getByLabelText('Comment (optional)'), 'Approved{Control>}{Enter}{/Control}');

    expect(fakeCommands.act).toHaveBeenCalledWith(requestId(1), { kind: 'approve', comment: 'Approved' });
    expect(await screen.findByTestId('request-queued')).toHaveTextContent(
      'Approved — waiting to be sent',
    );
    expect(screen.queryByTestId('act-approve')).not.toBeInTheDocument();

    // Back online, the sync sends it: the core says the lists changed.
    fakeCommands.requestDetail.mockResolvedValue(ok(requestDetail({ my_tasks: [], status: 'approved' })));
    changed(1);
    expect(await screen.findByTestId('request-sent')).toHaveTextContent('Approved — sent');
    expect(screen.queryByTestId('request-queued')).not.toBeInTheDocument();
  });

  it('says plainly why the server refused a decision made offline', async () => {
    renderDetail({
      detail: requestDetail({
        my_tasks: [],
        refused: [
          outboxItem({
            state: 'refused',
            reason: { code: 'already_decided', message: 'Already approved by 孙慧 at 10:02' },
          }),
        ],
      }),
    });
    expect(await screen.findByTestId('request-refused')).toHaveTextContent(
      'Approval refused: Already approved by 孙慧 at 10:02',
    );
  });

  it('says why an action was refused on the spot', async () => {
    fakeCommands.act.mockResolvedValue(
      failed(commandError('refused', { message: '“Trip to Shanghai” has no task pending for you.' })),
    );
    const { user } = renderDetail();
    await user.click(await screen.findByTestId('act-approve'));
    await user.click(screen.getByTestId('act-send'));
    expect(await screen.findByTestId('act-error')).toHaveTextContent(
      '“Trip to Shanghai” has no task pending for you.',
    );
  });

  it('comments and withdraws with the Act the core expects', async () => {
    fakeCommands.act.mockResolvedValue(ok(outboxItem({ action: 'comment' })));
    const { user } = renderDetail({ detail: requestDetail({ my_tasks: [], mine_and_open: true }) });
    await user.click(await screen.findByTestId('act-comment'));
    await user.type(screen.getByLabelText('Comment'), 'Receipts attached');
    await user.click(screen.getByTestId('act-send'));
    expect(fakeCommands.act).toHaveBeenLastCalledWith(requestId(1), {
      kind: 'comment',
      text: 'Receipts attached',
    });

    await user.click(await screen.findByTestId('act-withdraw'));
    await user.click(screen.getByTestId('act-send'));
    expect(fakeCommands.act).toHaveBeenLastCalledWith(requestId(1), { kind: 'withdraw', comment: '' });
  });

  it('opens with the reject box ready when asked to (Reject from a notification)', async () => {
    renderDetail({ startWith: 'reject' });
    const reason = await screen.findByLabelText('Why are you rejecting it? (required)');
    // The box is focused by an effect after it is drawn.
    await waitFor(() => {
      expect(reason).toHaveFocus();
    });
  });

  it('says there is nothing to decide when asked to reject what is already decided', async () => {
    renderDetail({ startWith: 'reject', detail: requestDetail({ my_tasks: [] }) });
    expect(await screen.findByTestId('nothing-to-decide')).toBeInTheDocument();
    expect(screen.queryByTestId('composer')).not.toBeInTheDocument();
  });

  it('says clearly when the request is not on this computer or not for this person', async () => {
    fakeCommands.requestDetail.mockResolvedValue(failed(commandError('not_found')));
    const onBack = vi.fn();
    const user = userEvent.setup();
    render(<RequestDetail requestId={requestId(9)} changes={0} online={true} onBack={onBack} />);
    expect(await screen.findByTestId('request-not-found')).toHaveTextContent(
      'This request is not available on this computer',
    );
    await user.click(screen.getByTestId('request-back'));
    expect(onBack).toHaveBeenCalled();
  });

  it('says why a request could not be read for another reason, and tries again', async () => {
    fakeCommands.requestDetail.mockResolvedValueOnce(failed(commandError('cache')));
    fakeCommands.requestDetail.mockResolvedValueOnce(ok(requestDetail({ initiator: sunHui })));
    const user = userEvent.setup();
    render(<RequestDetail requestId={requestId(1)} changes={0} online={true} onBack={vi.fn()} />);
    expect(await screen.findByTestId('request-error')).toHaveTextContent(
      'The request could not be shown: Countersign cannot use its offline data',
    );
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByRole('heading', { level: 1 })).toHaveTextContent('Trip to Shanghai');
  });

  describe('transfer', () => {
    beforeEach(() => {
      answerDirectory();
    });

    it('hands the task to the colleague picked, with the note, queued like any decision', async () => {
      const queued = outboxItem({ action: 'transfer' });
      fakeCommands.act.mockResolvedValue(ok(queued));
      const { user } = renderDetail({ online: false });
      await user.click(await screen.findByTestId('act-transfer'));
      expect(screen.getByTestId('act-transfer')).toHaveTextContent('Transfer…');
      await waitFor(() => {
        expect(within(screen.getByTestId('transfer-picker')).getByRole('combobox')).toHaveFocus();
      });
      await pick(user, '王', '王五');
      await user.type(screen.getByLabelText('Note for your colleague (optional)'), 'You know this customer');
      fakeCommands.requestDetail.mockResolvedValue(ok(requestDetail({ my_tasks: [], queued: [queued] })));
      await user.click(screen.getByTestId('act-send'));

      expect(fakeCommands.act).toHaveBeenCalledWith(requestId(1), {
        kind: 'transfer',
        to: wangWu.id,
        comment: 'You know this customer',
      });
      expect(await screen.findByTestId('request-queued')).toHaveTextContent('Handed on — waiting to be sent');
      expect(screen.queryByTestId('act-transfer')).not.toBeInTheDocument();
    });

    it('sends an empty note when none is written', async () => {
      fakeCommands.act.mockResolvedValue(ok(outboxItem({ action: 'transfer' })));
      const { user } = renderDetail();
      await user.click(await screen.findByTestId('act-transfer'));
      await pick(user, '王', '王五');
      await user.click(screen.getByTestId('act-send'));
      expect(fakeCommands.act).toHaveBeenCalledWith(requestId(1), {
        kind: 'transfer',
        to: wangWu.id,
        comment: '',
      });
    });

    it('asks for a colleague first, and will not hand it to someone who left or to oneself', async () => {
      const { user } = renderDetail({ meId: wangWu.id });
      await user.click(await screen.findByTestId('act-transfer'));
      await user.click(screen.getByTestId('act-send'));
      expect(screen.getByTestId('transfer-problem')).toHaveTextContent('Choose the colleague to hand it to.');

      await pick(user, '钱', '钱七');
      await user.click(screen.getByTestId('act-send'));
      expect(await screen.findByTestId('transfer-problem')).toHaveTextContent(
        '钱七 is no longer active; choose someone else.',
      );

      await user.clear(within(screen.getByTestId('transfer-picker')).getByRole('combobox'));
      await pick(user, '王', '王五');
      await user.click(screen.getByTestId('act-send'));
      expect(await screen.findByTestId('transfer-problem')).toHaveTextContent(
        'Choose a colleague other than yourself.',
      );
      expect(fakeCommands.act).not.toHaveBeenCalled();
    });

    it('says why a transfer was refused on the spot', async () => {
      fakeCommands.act.mockResolvedValue(
        failed(commandError('refused', { message: '王五 cannot take tasks of this step.' })),
      );
      const { user } = renderDetail();
      await user.click(await screen.findByTestId('act-transfer'));
      await pick(user, '王', '王五');
      await user.click(screen.getByTestId('act-send'));
      expect(await screen.findByTestId('act-error')).toHaveTextContent('王五 cannot take tasks of this step.');
    });

    it('says 转交 in Chinese', async () => {
      const { i18n } = await import('../i18n');
      await i18n.changeLanguage('zh-CN');
      const { user } = renderDetail();
      await user.click(await screen.findByTestId('act-transfer'));
      expect(screen.getByTestId('act-transfer')).toHaveTextContent('转交');
      expect(screen.getByTestId('act-send')).toHaveTextContent('转交');
    });
  });

  describe('a request returned to its initiator', () => {
    it('shows the latest return’s comment at the top and offers to correct and resubmit it', async () => {
      const correction = draftView({ resubmits: requestId(1), title: 'Trip to Shanghai' });
      fakeCommands.draftResubmit.mockResolvedValue(ok(correction));
      const { user, onOpenDraft } = renderDetail({ detail: returnedToSunHui(), meId: sunHui.id });
      const returned = await screen.findByTestId('request-returned');
      expect(returned).toHaveTextContent('Returned to you for changes');
      expect(returned).toHaveTextContent('Returned by 王五');
      expect(screen.getByTestId('request-return-comment')).toHaveTextContent(
        'Attach the hotel invoice, please',
      );
      expect(screen.getByTestId('request-return-comment')).not.toHaveTextContent('taxi');

      await user.click(screen.getByTestId('request-resubmit'));
      expect(fakeCommands.draftResubmit).toHaveBeenCalledWith(requestId(1));
      await waitFor(() => {
        expect(onOpenDraft).toHaveBeenCalledWith(correction);
      });
    });

    it('offers the correction only to the initiator, and only once it is returned', async () => {
      const other = renderDetail({ detail: returnedToSunHui(), meId: wangWu.id });
      // Someone else reads why it was returned, but cannot correct it.
      expect(await screen.findByTestId('request-return-comment')).toHaveTextContent(
        'Attach the hotel invoice, please',
      );
      expect(screen.getByTestId('request-returned')).toHaveTextContent('Returned for changes');
      expect(screen.queryByTestId('request-resubmit')).not.toBeInTheDocument();
      expect(other.onOpenDraft).not.toHaveBeenCalled();
    });

    it('offers no correction of a request still in progress', async () => {
      renderDetail({ detail: requestDetail({ my_tasks: [], mine_and_open: true }), meId: sunHui.id });
      expect(await screen.findByTestId('act-withdraw')).toBeInTheDocument();
      expect(screen.queryByTestId('request-returned')).not.toBeInTheDocument();
      expect(screen.queryByTestId('request-resubmit')).not.toBeInTheDocument();
    });

    it('says why the correction could not be started, in the core’s words', async () => {
      fakeCommands.draftResubmit.mockResolvedValue(
        failed(commandError('refused', { message: '“Trip to Shanghai” is no longer returned to you.' })),
      );
      const { user, onOpenDraft } = renderDetail({ detail: returnedToSunHui(), meId: sunHui.id });
      await user.click(await screen.findByTestId('request-resubmit'));
      expect(await screen.findByTestId('resubmit-error')).toHaveTextContent(
        '“Trip to Shanghai” is no longer returned to you.',
      );
      expect(onOpenDraft).not.toHaveBeenCalled();
    });
  });
});
