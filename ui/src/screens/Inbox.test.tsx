import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { InboxQuery } from '../api';
import { createLiveLists } from '../list/live';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, ok } from '../test/fixtures';
import {
  answerInboxOf,
  inboxEntry,
  inboxTemplates,
  outboxItem,
  requestId,
  sizeVirtualLists,
  syncStatus,
} from '../test/requests';
import { Inbox } from './Inbox';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

const meetingId = '0190d4a0-3000-7000-8000-000000000001';

/** The queries the inbox asked the core, in order. */
function inboxQueries(): InboxQuery[] {
  return fakeCommands.inbox.mock.calls.map(([query]) => query);
}

function renderInbox() {
  const lists = createLiveLists();
  const onOpen = vi.fn();
  const user = userEvent.setup();
  render(<Inbox list={lists.inbox} sync={lists.sync} onOpen={onOpen} />);
  return { user, onOpen, lists };
}

let unsize: () => void;

describe('Inbox', () => {
  beforeEach(() => {
    resetFakeCommands();
    unsize = sizeVirtualLists();
  });

  afterEach(() => {
    unsize();
  });

  it('shows each request with who asked, its template, key figures, how long it waited and its deadline', async () => {
    const soon = new Date(Date.now() + 2 * 3600 * 1000).toISOString();
    const late = new Date(Date.now() - 3600 * 1000).toISOString();
    fakeCommands.inbox.mockResolvedValue(
      ok({
        items: [
          inboxEntry(0),
          inboxEntry(1, { sla: 'due_soon', due_at: soon, title: '年假申请', template_name: null, template_id: 'leave' }),
          inboxEntry(2, { sla: 'overdue', due_at: late }),
        ],
        total: 3,
        offset: 0,
        templates: inboxTemplates,
      }),
    );
    renderInbox();

    const rows = await screen.findAllByTestId('inbox-row');
    expect(rows).toHaveLength(3);
    const [first, second, third] = rows as [HTMLElement, HTMLElement, HTMLElement];
    expect(first).toHaveTextContent('Trip to Shanghai #0');
    expect(first).toHaveTextContent('孙慧');
    expect(first).toHaveTextContent('Travel expenses');
    expect(first).toHaveTextContent('Total CNY 4,800.00');
    expect(first).toHaveTextContent('waiting 3 h');
    // Without a template name (not on this device yet) the row still says which template.
    expect(second).toHaveTextContent('leave');
    expect(within(second).getByTestId('sla-due_soon')).toHaveTextContent(/^Due /);
    expect(within(third).getByTestId('sla-overdue')).toHaveTextContent(/^Overdue since /);
    expect(screen.getByTestId('inbox-total')).toHaveTextContent('3 waiting');
    // Asked for the first page only, by offset, never for everything.
    expect(inboxQueries()).toEqual([
      { search: null, template_id: null, sla: null, offset: 0, limit: 100 },
    ]);
  });

  it('speaks Chinese: template names, ages and durations in the reader’s language', async () => {
    const { i18n } = await import('../i18n');
    await i18n.changeLanguage('zh-CN');
    fakeCommands.inbox.mockImplementation(answerInboxOf(1));
    renderInbox();
    const row = await screen.findByTestId('inbox-row');
    expect(row).toHaveTextContent('差旅报销');
    expect(row).toHaveTextContent('合计 CNY 4,800.00');
    expect(row).toHaveTextContent('已等待 3 小时');
  });

  it('keeps only a window of rows in the page for an inbox of 100 000', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(100_000));
    renderInbox();

    await screen.findAllByTestId('inbox-row');
    const rows = screen.getAllByTestId('inbox-row');
    // 760 px of 76 px rows is ten rows, with a few more on either side for smooth scrolling.
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.length).toBeLessThan(40);
    expect(screen.getByTestId('inbox-total')).toHaveTextContent('100000 waiting');
    const list = screen.getByTestId('inbox-list');
    expect(list).toHaveAttribute('aria-rowcount', '100000');
    // The spacer is as tall as all the rows, so the scroll bar tells the truth.
    expect(list.firstElementChild).toHaveStyle({ height: `${100_000 * 76}px` });
    expect(inboxQueries().map((query) => query.offset)).toEqual([0]);
  });

  it('asks for the page that scrolls into view, by offset, and shows its rows', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(100_000));
    renderInbox();
    await screen.findAllByTestId('inbox-row');
    const list = screen.getByTestId('inbox-list');

    list.scrollTop = 250 * 76;
    fireEvent.scroll(list);

    await waitFor(() => {
      expect(inboxQueries().map((query) => query.offset)).toContain(200);
    });
    expect(await screen.findByText('Trip to Shanghai #252')).toBeInTheDocument();
    expect(screen.queryByText('Trip to Shanghai #0')).not.toBeInTheDocument();
    // Pages between were skipped, not read on the way.
    expect(inboxQueries().map((query) => query.offset)).not.toContain(100);
  });

  it('asks again from the top when a filter changes: template, deadline, search', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(10));
    const { user } = renderInbox();
    await screen.findAllByTestId('inbox-row');

    expect(screen.getByTestId('inbox-template')).toHaveTextContent('All templates (10)');
    await user.selectOptions(screen.getByTestId('inbox-template'), 'leave');
    await waitFor(() => {
      expect(inboxQueries().at(-1)).toMatchObject({ template_id: 'leave', offset: 0 });
    });

    await user.click(screen.getByTestId('inbox-sla-overdue'));
    expect(screen.getByTestId('inbox-sla-overdue')).toHaveAttribute('aria-pressed', 'true');
    await waitFor(() => {
      expect(inboxQueries().at(-1)).toMatchObject({ template_id: 'leave', sla: 'overdue', offset: 0 });
    });

    const asked = fakeCommands.inbox.mock.calls.length;
    await user.type(screen.getByTestId('inbox-search'), '差旅 上海');
    await waitFor(() => {
      expect(inboxQueries().at(-1)).toMatchObject({ search: '差旅 上海', sla: 'overdue' });
    });
    // The search waited for the typing to pause: one question, not one per keystroke.
    expect(fakeCommands.inbox.mock.calls.length - asked).toBe(1);
  });

  it('says so when nothing matches, and clears the filters in one step', async () => {
    fakeCommands.inbox.mockImplementation((query) =>
      answerInboxOf(query.sla === 'due_soon' ? 0 : 4)(query),
    );
    const { user } = renderInbox();
    await screen.findAllByTestId('inbox-row');
    await user.click(screen.getByTestId('inbox-sla-due_soon'));
    expect(await screen.findByTestId('inbox-no-matches')).toHaveTextContent(
      'No requests match these filters.',
    );
    await user.click(screen.getByRole('button', { name: 'Clear filters' }));
    expect(await screen.findAllByTestId('inbox-row')).toHaveLength(4);
  });

  it('still shows the empty inbox when nothing waits', async () => {
    renderInbox();
    expect(await screen.findByTestId('inbox-empty')).toHaveTextContent(
      'No approvals waiting for you',
    );
    expect(screen.queryByRole('search')).not.toBeInTheDocument();
  });

  it('moves with the arrows, opens with Enter, selects with Space and x', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(5));
    const { user, onOpen } = renderInbox();
    await screen.findAllByTestId('inbox-row');
    const list = screen.getByTestId('inbox-list');
    list.focus();

    await user.keyboard('{ArrowDown}{ArrowDown}{ArrowUp}');
    expect(list).toHaveAttribute('aria-activedescendant', 'inbox-list-row-1');
    await user.keyboard('{Enter}');
    expect(onOpen).toHaveBeenCalledWith(requestId(1));

    await user.keyboard(' ');
    await user.keyboard('{ArrowDown}x');
    expect(screen.getByTestId('bulk-bar')).toHaveTextContent('2 selected');
    expect(screen.getByRole('checkbox', { name: 'Select “Trip to Shanghai #1”' })).toBeChecked();
    expect(screen.getByRole('checkbox', { name: 'Select “Trip to Shanghai #2”' })).toBeChecked();

    await user.keyboard('x');
    expect(screen.getByTestId('bulk-bar')).toHaveTextContent('1 selected');
  });

  it('approves the selected requests with one comment and names each one that was refused, with why', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(5));
    fakeCommands.actMany.mockResolvedValue(
      ok([
        { request_id: requestId(0), queued: outboxItem({ request_id: requestId(0) }), error: null },
        {
          request_id: requestId(2),
          queued: null,
          error: commandError('refused', { message: 'Already approved by 孙慧 at 10:02' }),
        },
      ]),
    );
    const { user } = renderInbox();
    await screen.findAllByTestId('inbox-row');

    await user.click(screen.getByRole('checkbox', { name: 'Select “Trip to Shanghai #0”' }));
    await user.click(screen.getByRole('checkbox', { name: 'Select “Trip to Shanghai #2”' }));
    await user.click(screen.getByTestId('approve-selected'));
    const panel = screen.getByTestId('bulk-approve');
    expect(panel).toHaveTextContent('Approve the selected requests (2)');
    await user.type(within(panel).getByLabelText('Comment (optional)'), 'OK for Q4');
    await user.click(screen.getByTestId('bulk-approve-confirm'));

    expect(fakeCommands.actMany).toHaveBeenCalledWith([requestId(0), requestId(2)], {
      kind: 'approve',
      comment: 'OK for Q4',
    });
    const outcomes = await screen.findByTestId('bulk-outcomes');
    expect(outcomes).toHaveTextContent('Approved: 1.');
    expect(outcomes).toHaveTextContent('Could not be approved: 1.');
    expect(within(outcomes).getByTestId('bulk-refused')).toHaveTextContent(
      'Trip to Shanghai #2: Already approved by 孙慧 at 10:02',
    );
    expect(screen.queryByTestId('bulk-bar')).not.toBeInTheDocument();
  });

  it('approves offline too, and says the approvals wait to be sent', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(2));
    fakeCommands.syncStatus.mockResolvedValue(ok(syncStatus({ online: false })));
    fakeCommands.actMany.mockResolvedValue(
      ok([{ request_id: requestId(1), queued: outboxItem(), error: null }]),
    );
    const { user } = renderInbox();
    await screen.findByTestId('offline-banner');
    await user.click(await screen.findByRole('checkbox', { name: 'Select “Trip to Shanghai #1”' }));
    await user.click(screen.getByTestId('approve-selected'));
    await user.keyboard('{Control>}{Enter}{/Control}');
    expect(await screen.findByTestId('bulk-outcomes')).toHaveTextContent(
      'Approved: 1 — waiting to be sent.',
    );
    expect(fakeCommands.actMany).toHaveBeenCalledWith([requestId(1)], { kind: 'approve', comment: '' });
  });

  it('says why nothing was approved when the core refuses the whole batch', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(2));
    fakeCommands.actMany.mockResolvedValue({ status: 'error', error: commandError('cache') });
    const { user } = renderInbox();
    await user.click(await screen.findByRole('checkbox', { name: 'Select “Trip to Shanghai #0”' }));
    await user.click(screen.getByTestId('approve-selected'));
    await user.click(screen.getByTestId('bulk-approve-confirm'));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'Nothing was approved: Countersign cannot use its offline data',
    );
    expect(screen.getByTestId('bulk-approve')).toBeInTheDocument();
  });

  it('shows the offline banner with the last sync, the outbox and its refusals with their reasons', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(1));
    fakeCommands.syncStatus.mockResolvedValue(
      ok(
        syncStatus({
          online: false,
          outbox_pending: 2,
          refused: [
            outboxItem({
              id: 'refused-1',
              state: 'refused',
              reason: { code: 'already_decided', message: 'Already approved by 孙慧 at 10:02' },
            }),
          ],
        }),
      ),
    );
    const { user, onOpen } = renderInbox();

    const banner = await screen.findByTestId('offline-banner');
    expect(banner).toHaveTextContent(
      'You are offline. Decisions are queued and sent when you are back.',
    );
    expect(banner).toHaveTextContent('Last synced');
    const indicator = screen.getByTestId('outbox-indicator');
    expect(indicator).toHaveTextContent('Waiting to be sent: 2');
    expect(indicator).toHaveTextContent('Refused: 1');

    await user.click(indicator);
    const panel = screen.getByTestId('outbox-panel');
    expect(within(panel).getByTestId('outbox-refused-item')).toHaveTextContent(
      'Already approved by 孙慧 at 10:02',
    );
    expect(panel).toHaveTextContent('Approval of');
    await user.click(within(panel).getByRole('button', { name: 'Open' }));
    expect(onOpen).toHaveBeenCalledWith(requestId(1));
  });

  it('says an untrusted server certificate is a problem to fix, not being offline, and keeps the queue', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(1));
    fakeCommands.syncStatus.mockResolvedValue(
      ok(
        syncStatus({
          online: false,
          outbox_pending: 1,
          last_error: {
            code: 'server_untrusted',
            message: 'The certificate of https://oa.example.cn is not trusted here: it has expired.',
            url: 'https://oa.example.cn',
            retry_after_secs: null,
          },
        }),
      ),
    );
    renderInbox();

    const banner = await screen.findByTestId('untrusted-banner');
    expect(banner).toHaveAttribute('role', 'alert');
    expect(banner).toHaveTextContent(
      'The certificate of https://oa.example.cn is not trusted on this computer',
    );
    expect(banner).toHaveTextContent('ask IT support');
    expect(banner).toHaveTextContent('Until then, decisions are queued');
    expect(screen.queryByTestId('offline-banner')).not.toBeInTheDocument();
    expect(screen.getByTestId('outbox-indicator')).toHaveTextContent('Waiting to be sent: 1');

    const { i18n } = await import('../i18n');
    await i18n.changeLanguage('zh-CN');
    try {
      expect(await screen.findByTestId('untrusted-banner')).toHaveTextContent(
        '本机不信任 https://oa.example.cn 的证书',
      );
    } finally {
      await i18n.changeLanguage('en');
    }
  });

  it('opens the meeting, not a request, for a refused answer to an invitation', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(1));
    fakeCommands.syncStatus.mockResolvedValue(
      ok(
        syncStatus({
          refused: [
            outboxItem({
              id: 'refused-rsvp',
              request_id: meetingId,
              task: null,
              action: 'rsvp_accept',
              state: 'refused',
              reason: { code: 'meeting_cancelled', message: '“Budget review” was cancelled.' },
            }),
          ],
        }),
      ),
    );
    const lists = createLiveLists();
    const onOpen = vi.fn();
    const onOpenMeeting = vi.fn();
    const user = userEvent.setup();
    render(<Inbox list={lists.inbox} sync={lists.sync} onOpen={onOpen} onOpenMeeting={onOpenMeeting} />);

    const indicator = screen.getByTestId('outbox-indicator');
    await waitFor(() => {
      expect(indicator).toHaveTextContent('Refused: 1');
    });
    await user.click(indicator);
    const panel = screen.getByTestId('outbox-panel');
    expect(within(panel).getByTestId('outbox-refused-item')).toHaveTextContent('Accepting an invitation');
    expect(panel).toHaveTextContent('“Budget review” was cancelled.');
    await user.click(within(panel).getByRole('button', { name: 'Open' }));
    expect(onOpenMeeting).toHaveBeenCalledWith(meetingId);
    expect(onOpen).not.toHaveBeenCalled();
  });

  it('syncs now on request and drops the banner once back online', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(1));
    fakeCommands.syncStatus.mockResolvedValue(ok(syncStatus({ online: false })));
    let finish: (value: Awaited<ReturnType<typeof fakeCommands.syncNow>>) => void = () => undefined;
    fakeCommands.syncNow.mockReturnValue(
      new Promise((resolve) => {
        finish = resolve;
      }),
    );
    const { user } = renderInbox();
    await screen.findByTestId('offline-banner');

    await user.click(screen.getByTestId('sync-now'));
    expect(screen.getByTestId('sync-now')).toHaveTextContent('Syncing…');
    expect(screen.getByTestId('sync-now')).toHaveAttribute('aria-disabled', 'true');
    await act(async () => {
      finish(ok(syncStatus({ online: true })));
      await Promise.resolve();
    });
    expect(screen.queryByTestId('offline-banner')).not.toBeInTheDocument();
    expect(screen.getByTestId('sync-now')).toHaveTextContent('Sync now');
    expect(fakeCommands.syncNow).toHaveBeenCalledTimes(1);
  });

  it('says why "Sync now" failed', async () => {
    fakeCommands.syncNow.mockResolvedValue({
      status: 'error',
      error: commandError('server_unreachable', { url: 'https://oa.example.com' }),
    });
    const { user } = renderInbox();
    await screen.findByTestId('inbox-empty');
    await user.click(screen.getByTestId('sync-now'));
    expect(await screen.findByTestId('sync-error')).toHaveTextContent(
      'Could not sync: Cannot reach https://oa.example.com.',
    );
  });

  it('keeps the rows shown while they are read again, and shows the new answer', async () => {
    fakeCommands.inbox.mockImplementation(answerInboxOf(3));
    const { lists } = renderInbox();
    expect(await screen.findAllByTestId('inbox-row')).toHaveLength(3);

    let answer: (value: Awaited<ReturnType<typeof fakeCommands.inbox>>) => void = () => undefined;
    fakeCommands.inbox.mockReturnValue(
      new Promise((resolve) => {
        answer = resolve;
      }),
    );
    act(() => {
      lists.inbox.refresh();
    });
    // Never blank while asking again.
    expect(screen.getAllByTestId('inbox-row')).toHaveLength(3);
    await act(async () => {
      answer(ok({ items: [inboxEntry(7)], total: 1, offset: 0, templates: inboxTemplates }));
      await Promise.resolve();
    });
    expect(screen.getAllByTestId('inbox-row')).toHaveLength(1);
    expect(screen.getByText('Trip to Shanghai #7')).toBeInTheDocument();
  });

  it('says why the inbox cannot be shown, and tries again', async () => {
    fakeCommands.inbox.mockResolvedValueOnce({ status: 'error', error: commandError('cache') });
    const { user } = renderInbox();
    expect(await screen.findByTestId('inbox-error')).toHaveTextContent(
      'The inbox could not be shown: Countersign cannot use its offline data',
    );
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('inbox-empty')).toBeInTheDocument();
  });
});
