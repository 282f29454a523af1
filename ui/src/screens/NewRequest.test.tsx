import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SyncStatus } from '../api';
import { i18n } from '../i18n';
import { draftStore, draftView, tenFortyTwo } from '../test/drafts';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, failed, ok } from '../test/fixtures';
import { allTemplates, templates } from '../test/templates';
import { NewRequest } from './NewRequest';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

const offline: SyncStatus = {
  online: false,
  last_sync_at: null,
  last_error: {
    code: 'server_unreachable',
    message: 'Cannot reach https://oa.example.cn.',
    url: 'https://oa.example.cn',
    retry_after_secs: null,
  },
  outbox_pending: 1,
  refused: [],
  recovery: null,
};

function submission(request_id: string) {
  return {
    id: 'outbox-1',
    request_id,
    action: 'submit',
    state: 'pending' as const,
    created_at: tenFortyTwo,
    attempts: 0,
    last_error: null,
    reason: null,
  };
}

describe('NewRequest', () => {
  beforeEach(() => {
    resetFakeCommands();
    fakeCommands.templates.mockResolvedValue(ok(allTemplates));
  });

  it('shows every form with its description, and finds one by a word in either language', async () => {
    const user = userEvent.setup();
    render(<NewRequest />);
    const gallery = await screen.findByRole('list', { name: 'Forms' });
    expect(within(gallery).getAllByRole('button')).toHaveLength(7);
    expect(screen.getByTestId('template-leave')).toHaveTextContent(
      'Leave request: days are counted on the working-day calendar',
    );

    await user.type(screen.getByRole('searchbox', { name: 'Search forms' }), '报销');
    expect(within(gallery).getAllByRole('button')).toHaveLength(1);
    expect(screen.getByTestId('template-reimbursement')).toBeInTheDocument();

    await user.clear(screen.getByRole('searchbox'));
    await user.type(screen.getByRole('searchbox'), 'holiday cruise');
    expect(screen.getByTestId('templates-no-match')).toHaveTextContent(
      'No form matches “holiday cruise”.',
    );
  });

  it('is walked with the keyboard: down from the search, arrows between forms', async () => {
    const user = userEvent.setup();
    render(<NewRequest />);
    await screen.findByRole('list', { name: 'Forms' });
    await user.click(screen.getByRole('searchbox'));
    await user.keyboard('{ArrowDown}');
    const cards = within(screen.getByRole('list', { name: 'Forms' })).getAllByRole('button');
    expect(cards[0]).toHaveFocus();
    await user.keyboard('{ArrowRight}');
    expect(cards[1]).toHaveFocus();
    await user.keyboard('{End}');
    expect(cards[cards.length - 1]).toHaveFocus();
    await user.keyboard('{Home}');
    expect(cards[0]).toHaveFocus();
  });

  it('says so when this computer has no forms yet', async () => {
    fakeCommands.templates.mockResolvedValue(ok([]));
    render(<NewRequest />);
    expect(await screen.findByTestId('templates-empty')).toHaveTextContent(
      'No forms on this computer yet',
    );
  });

  it('shows the forms the first sync brings without leaving the screen', async () => {
    fakeCommands.templates.mockResolvedValueOnce(ok([]));
    const { rerender } = render(<NewRequest changes={0} />);
    expect(await screen.findByTestId('templates-empty')).toBeInTheDocument();

    rerender(<NewRequest changes={1} />);
    expect(await screen.findByTestId('template-leave')).toBeInTheDocument();
    expect(screen.queryByTestId('templates-empty')).not.toBeInTheDocument();

    // A re-read that fails after a later sync keeps the forms shown.
    fakeCommands.templates.mockResolvedValueOnce(failed(commandError('cache')));
    rerender(<NewRequest changes={2} />);
    await waitFor(() => {
      expect(fakeCommands.templates).toHaveBeenCalledTimes(3);
    });
    expect(screen.getByTestId('template-leave')).toBeInTheDocument();
    expect(screen.queryByTestId('templates-error')).not.toBeInTheDocument();
  });

  it('starts a draft from the chosen form and opens it for editing', async () => {
    const draft = draftView(templates.leave);
    draftStore(draft);
    fakeCommands.draftNew.mockResolvedValue(ok(draft));
    const user = userEvent.setup();
    render(<NewRequest />);
    await user.click(await screen.findByTestId('template-leave'));

    expect(fakeCommands.draftNew).toHaveBeenCalledExactlyOnceWith('leave');
    const heading = await screen.findByRole('heading', { level: 1, name: 'Leave' });
    await waitFor(() => {
      expect(heading).toHaveFocus();
    });
    expect(screen.getByRole('combobox', { name: 'Leave type' })).toBeInTheDocument();
  });

  it('says why a draft could not be started', async () => {
    fakeCommands.draftNew.mockResolvedValue(failed(commandError('cache')));
    const user = userEvent.setup();
    render(<NewRequest />);
    await user.click(await screen.findByTestId('template-leave'));
    expect(await screen.findByTestId('start-error')).toHaveTextContent(
      'The draft could not be started: Countersign cannot use its offline data',
    );
  });

  it('comes back to the gallery saying "Queued" when submitted offline', async () => {
    const draft = draftView(templates.businessTrip, { title: 'Beijing visit' });
    draftStore(draft);
    fakeCommands.draftNew.mockResolvedValue(ok(draft));
    fakeCommands.submitDraft.mockResolvedValue(ok(submission('request-1')));
    fakeCommands.syncStatus.mockResolvedValue(ok(offline));
    const openMyRequests = vi.fn();
    const user = userEvent.setup();
    render(<NewRequest onOpenMyRequests={openMyRequests} />);
    await user.click(await screen.findByTestId('template-business_trip'));
    await user.click(await screen.findByRole('button', { name: 'Submit' }));

    const outcome = await screen.findByTestId('draft-outcome');
    expect(outcome).toHaveTextContent(
      'Beijing visit Queued: it will be sent when you are back online.',
    );
    await user.click(within(outcome).getByRole('button', { name: 'Open My requests' }));
    expect(openMyRequests).toHaveBeenCalledOnce();
  });

  it('comes back saying "Submitted" online, in Chinese too', async () => {
    await i18n.changeLanguage('zh-CN');
    const draft = draftView(templates.businessTrip, { title: '北京出差' });
    draftStore(draft);
    fakeCommands.draftNew.mockResolvedValue(ok(draft));
    fakeCommands.submitDraft.mockResolvedValue(ok(submission('request-2')));
    const user = userEvent.setup();
    render(<NewRequest />);
    await user.click(await screen.findByTestId('template-business_trip'));
    await user.click(await screen.findByRole('button', { name: '提交' }));
    expect(await screen.findByTestId('draft-outcome')).toHaveTextContent('北京出差 已提交。');
  });
});
