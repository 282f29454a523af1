import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, failed, ok } from '../test/fixtures';
import { draftView, requestDetail } from '../test/requests';
import { Drafts } from './Drafts';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

const travel = requestDetail().template;

const beijing = draftView();
const untitled = draftView({
  id: '0190d4a0-3000-7000-8000-000000000002',
  title: null,
  template_id: 'overtime',
  errors: [
    { path: 'hours', key: 'required', message: 'Required' },
    { path: 'reason', key: 'required', message: 'Required' },
  ],
  updated_at: '2026-11-01T09:00:00Z',
});
const queued = draftView({
  id: '0190d4a0-3000-7000-8000-000000000003',
  title: 'Trip to Chengdu',
  submitted_as: '0190d4a0-1000-7000-8000-000000000099',
  resubmits: null,
  updated_at: '2026-10-01T09:00:00Z',
});
const retired = draftView({
  id: '0190d4a0-3000-7000-8000-000000000004',
  title: 'Old form',
  template_retired: true,
  updated_at: '2026-09-01T09:00:00Z',
});

function renderDrafts() {
  fakeCommands.templates.mockResolvedValue(ok(travel === null ? [] : [travel]));
  const user = userEvent.setup();
  render(<Drafts changes={0} />);
  return user;
}

describe('Drafts', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('lists the drafts, newest first, with their template, title, saved time and state', async () => {
    fakeCommands.drafts.mockResolvedValue(ok([retired, untitled, queued, beijing]));
    renderDrafts();
    const items = await screen.findAllByTestId('draft-item');
    expect(items.map((item) => item.querySelector('.draft-title')?.textContent)).toEqual([
      'Trip to Beijing',
      'Untitled draft',
      'Trip to Chengdu',
      'Old form',
    ]);
    const [first, second, third, fourth] = items as [HTMLElement, HTMLElement, HTMLElement, HTMLElement];
    expect(first).toHaveTextContent('Travel expenses');
    expect(first).toHaveTextContent('Saved');
    // A template this computer does not know is still named, by its id.
    expect(second).toHaveTextContent('overtime');
    expect(within(second).getByTestId('draft-item-errors')).toHaveTextContent('Problems to fix: 2');
    expect(within(third).getByTestId('draft-item-queued')).toHaveTextContent('Queued for submission');
    // What waits in the outbox cannot be deleted from here.
    expect(within(third).queryByTestId('draft-delete')).not.toBeInTheDocument();
    expect(within(fourth).getByTestId('draft-item-retired')).toBeInTheDocument();
  });

  it('marks the correction of a returned request', async () => {
    const correction = draftView({
      id: '0190d4a0-3000-7000-8000-000000000005',
      title: 'Trip to Shanghai',
      resubmits: '0190d4a0-1000-7000-8000-000000000001',
      updated_at: '2026-12-01T09:00:00Z',
    });
    fakeCommands.drafts.mockResolvedValue(ok([beijing, correction]));
    renderDrafts();
    await screen.findAllByTestId('draft-item');
    const row = (title: string) => {
      const found = screen.getByText(title).closest<HTMLElement>('[data-testid="draft-item"]');
      if (found === null) throw new Error(`no draft row for ${title}`);
      return found;
    };
    expect(within(row('Trip to Beijing')).queryByTestId('draft-correction')).not.toBeInTheDocument();
    expect(within(row('Trip to Shanghai')).getByTestId('draft-correction')).toHaveTextContent('Correction');
  });

  it('opens the draft another screen asks for at once, and shows the list when it is left', async () => {
    const correction = draftView({ title: 'Trip to Shanghai', resubmits: '0190d4a0-1000-7000-8000-000000000001' });
    fakeCommands.drafts.mockResolvedValue(ok([correction]));
    fakeCommands.draft.mockResolvedValue(ok(correction));
    fakeCommands.template.mockResolvedValue(ok(travel));
    fakeCommands.templates.mockResolvedValue(ok(travel === null ? [] : [travel]));
    const user = userEvent.setup();
    render(<Drafts changes={0} open={{ id: correction.id, opening: 1 }} />);
    expect(await screen.findByTestId('draft-resubmits')).toBeInTheDocument();
    expect(fakeCommands.draft).toHaveBeenCalledWith(correction.id);
    await user.click(screen.getByRole('button', { name: /Back/ }));
    expect(await screen.findByTestId('draft-correction')).toBeInTheDocument();
  });

  it('deletes a draft only after asking, and says it was deleted', async () => {
    fakeCommands.drafts.mockResolvedValueOnce(ok([beijing, untitled]));
    fakeCommands.drafts.mockResolvedValue(ok([untitled]));
    fakeCommands.draftDelete.mockResolvedValue(ok(null));
    const user = renderDrafts();
    await user.click(await screen.findByRole('button', { name: 'Delete “Trip to Beijing”' }));

    const dialog = screen.getByTestId('draft-delete-confirm');
    expect(dialog).toHaveTextContent('“Trip to Beijing” will be deleted from this computer.');
    // The safe answer has the focus: Enter on its own deletes nothing.
    expect(within(dialog).getByRole('button', { name: 'Keep it' })).toHaveFocus();
    expect(fakeCommands.draftDelete).not.toHaveBeenCalled();

    await user.click(within(dialog).getByRole('button', { name: 'Delete' }));
    expect(fakeCommands.draftDelete).toHaveBeenCalledWith(beijing.id);
    expect(await screen.findByTestId('draft-outcome')).toHaveTextContent('Draft deleted.');
    // The list is read again after the deletion; until then it still shows both.
    await waitFor(() => {
      expect(screen.getAllByTestId('draft-item')).toHaveLength(1);
    });
  });

  it('keeps the draft when the deletion is called off, and says why one failed', async () => {
    fakeCommands.drafts.mockResolvedValue(ok([beijing]));
    fakeCommands.draftDelete.mockResolvedValue(failed(commandError('cache')));
    const user = renderDrafts();
    await user.click(await screen.findByTestId('draft-delete'));
    await user.keyboard('{Escape}');
    expect(screen.queryByTestId('draft-delete-confirm')).not.toBeInTheDocument();

    await user.click(screen.getByTestId('draft-delete'));
    await user.click(within(screen.getByTestId('draft-delete-confirm')).getByRole('button', { name: 'Delete' }));
    expect(await within(screen.getByTestId('draft-delete-confirm')).findByRole('alert')).toHaveTextContent(
      'The draft could not be deleted: Countersign cannot use its offline data',
    );
    expect(screen.getByTestId('draft-item')).toBeInTheDocument();
  });

  it('opens a draft in the draft editor', async () => {
    fakeCommands.drafts.mockResolvedValue(ok([beijing]));
    fakeCommands.draft.mockResolvedValue(ok(beijing));
    fakeCommands.template.mockResolvedValue(ok(travel));
    const user = renderDrafts();
    await user.click(await screen.findByText('Trip to Beijing'));
    expect(await screen.findByTestId('draft-editor')).toBeInTheDocument();
    expect(fakeCommands.draft).toHaveBeenCalledWith(beijing.id);
  });

  it('says when there are no drafts, and why they could not be read', async () => {
    fakeCommands.drafts.mockResolvedValueOnce(failed(commandError('cache')));
    const user = renderDrafts();
    expect(await screen.findByTestId('drafts-error')).toHaveTextContent(
      'Your drafts could not be shown: Countersign cannot use its offline data',
    );
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('drafts-empty')).toHaveTextContent('No drafts');
  });
});
