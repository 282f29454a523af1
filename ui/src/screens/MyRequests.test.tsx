import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLiveLists } from '../list/live';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { ok } from '../test/fixtures';
import { answerMyRequestsOf, myRequestEntry, requestId, sizeVirtualLists, zhaoLiu } from '../test/requests';
import { MyRequests } from './MyRequests';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

function renderMyRequests() {
  const lists = createLiveLists();
  const onOpen = vi.fn();
  const user = userEvent.setup();
  render(<MyRequests list={lists.myRequests} onOpen={onOpen} />);
  return { user, onOpen };
}

let unsize: () => void;

describe('MyRequests', () => {
  beforeEach(() => {
    resetFakeCommands();
    unsize = sizeVirtualLists();
  });

  afterEach(() => {
    unsize();
  });

  it('shows each request with its status, the step it waits at, on whom, its figures and when it changed', async () => {
    fakeCommands.myRequests.mockResolvedValue(
      ok({
        items: [
          myRequestEntry(0, { waiting_on: [zhaoLiu] }),
          myRequestEntry(1, {
            status: 'queued',
            current_step: null,
            waiting_on: [],
            figures: [],
          }),
          myRequestEntry(2, { status: 'approved', current_step: null, waiting_on: [] }),
        ],
        total: 3,
        offset: 0,
      }),
    );
    renderMyRequests();
    const rows = await screen.findAllByTestId('my-request-row');
    expect(rows).toHaveLength(3);
    const [first, second, third] = rows as [HTMLElement, HTMLElement, HTMLElement];
    expect(first).toHaveTextContent('Laptop purchase #0');
    expect(first).toHaveTextContent('Purchase');
    expect(first).toHaveTextContent('In progress');
    expect(first).toHaveTextContent('At: Manager approval');
    expect(first).toHaveTextContent('Waiting for 赵六');
    expect(first).toHaveTextContent('Amount CNY 9,999.00');
    expect(first).toHaveTextContent('Updated');
    expect(second).toHaveTextContent('Waiting to be submitted');
    expect(third).toHaveTextContent('Approved');
    expect(fakeCommands.myRequests).toHaveBeenCalledWith({
      search: null,
      statuses: [],
      offset: 0,
      limit: 100,
    });
  });

  it('filters by status chips and searches, asking again from the top', async () => {
    fakeCommands.myRequests.mockImplementation(answerMyRequestsOf(20));
    const { user } = renderMyRequests();
    await screen.findAllByTestId('my-request-row');

    await user.click(screen.getByTestId('status-chip-returned'));
    await user.click(screen.getByTestId('status-chip-approved'));
    expect(screen.getByTestId('status-chip-approved')).toHaveAttribute('aria-pressed', 'true');
    await waitFor(() => {
      expect(fakeCommands.myRequests.mock.calls.at(-1)?.[0]).toEqual({
        search: null,
        statuses: ['approved', 'returned'],
        offset: 0,
        limit: 100,
      });
    });

    await user.type(screen.getByTestId('my-requests-search'), '笔记本');
    await waitFor(() => {
      expect(fakeCommands.myRequests.mock.calls.at(-1)?.[0]).toMatchObject({ search: '笔记本' });
    });
  });

  it('reads further pages as they scroll into view', async () => {
    fakeCommands.myRequests.mockImplementation(answerMyRequestsOf(5000));
    renderMyRequests();
    await screen.findAllByTestId('my-request-row');
    expect(screen.getAllByTestId('my-request-row').length).toBeLessThan(40);
    const list = screen.getByTestId('my-requests-list');
    list.scrollTop = 1234 * 76;
    fireEvent.scroll(list);
    expect(await screen.findByText('Laptop purchase #1236')).toBeInTheDocument();
    expect(fakeCommands.myRequests.mock.calls.map(([query]) => query.offset)).toContain(1200);
  });

  it('opens a request with Enter or a click', async () => {
    fakeCommands.myRequests.mockImplementation(answerMyRequestsOf(3));
    const { user, onOpen } = renderMyRequests();
    await screen.findAllByTestId('my-request-row');
    screen.getByTestId('my-requests-list').focus();
    await user.keyboard('{End}{Enter}');
    expect(onOpen).toHaveBeenLastCalledWith(requestId(2));
    await user.click(screen.getByText('Laptop purchase #0'));
    expect(onOpen).toHaveBeenLastCalledWith(requestId(0));
  });

  it('says when there is nothing yet, and when nothing matches', async () => {
    const { user } = renderMyRequests();
    expect(await screen.findByTestId('my-requests-empty')).toHaveTextContent(
      'You have not submitted any requests yet',
    );
    await user.click(screen.getByTestId('status-chip-withdrawn'));
    await waitFor(() => {
      expect(screen.getByTestId('my-requests-empty')).toHaveTextContent(
        'No requests match these filters.',
      );
    });
  });
});
