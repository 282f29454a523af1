import { describe, expect, it, vi } from 'vitest';
import type { CommandError, Result } from '../api';
import { commandError } from '../test/fixtures';
import { PagedList } from './pagedList';
import type { Page } from './pagedList';

type Answer = Result<Page<string>, CommandError>;

/** A core whose answers the test hands out one by one, in any order. */
function scriptedCore() {
  const asked: { query: string; offset: number; limit: number; answer: (a: Answer) => void }[] = [];
  const fetch = vi.fn((query: string, offset: number, limit: number) => {
    return new Promise<Answer>((resolve) => {
      asked.push({ query, offset, limit, answer: resolve });
    });
  });
  const rows = (query: string, offset: number, count: number) =>
    Array.from({ length: count }, (_, i) => `${query}:${offset + i}`);
  /** Answers question `index` as a list of `total` rows for its query. */
  const answer = async (index: number, total: number) => {
    const question = asked[index];
    if (question === undefined) throw new Error(`question ${index} was not asked`);
    const count = Math.max(0, Math.min(question.limit, total - question.offset));
    question.answer({
      status: 'ok',
      data: { items: rows(question.query, question.offset, count), total, offset: question.offset },
    });
    await Promise.resolve();
    await Promise.resolve();
  };
  return { asked, fetch, answer };
}

describe('PagedList', () => {
  it('asks for the first page, then only for the pages that come into view', async () => {
    const core = scriptedCore();
    const list = new PagedList<string, string, Page<string>>(core.fetch, 100);
    list.setQuery('all');
    expect(core.asked.map((q) => q.offset)).toEqual([0]);
    await core.answer(0, 100_000);
    expect(list.getSnapshot().total).toBe(100_000);
    expect(list.row(5)).toBe('all:5');

    list.show(0, 20);
    expect(core.asked).toHaveLength(1);
    list.show(5_050, 5_070);
    list.show(5_060, 5_080);
    // One question per page, however often the range moves within it.
    expect(core.asked.map((q) => q.offset)).toEqual([0, 5_000]);
    list.show(5_090, 5_110);
    expect(core.asked.map((q) => q.offset)).toEqual([0, 5_000, 5_100]);
    expect(list.row(5_095)).toBeUndefined();
    await core.answer(1, 100_000);
    expect(list.row(5_095)).toBe('all:5095');
  });

  it('does not ask again for a query whose first answer is on its way, unless the lists changed', async () => {
    const core = scriptedCore();
    const list = new PagedList<string, string, Page<string>>(core.fetch, 100);
    list.setQuery('all');
    // The screen showing the list sets the same query when it is drawn.
    list.setQuery('all');
    expect(core.asked).toHaveLength(1);
    // A change since the question was asked: its answer may be older than the change.
    list.refresh();
    expect(core.asked).toHaveLength(2);
    await core.answer(1, 7);
    await core.answer(0, 6);
    expect(list.getSnapshot().total).toBe(7);
    // Answered: showing the list again checks it again.
    list.setQuery('all');
    expect(core.asked).toHaveLength(3);
  });

  it('keeps the previous answer on screen, marked stale, until the new filter answers', async () => {
    const core = scriptedCore();
    const list = new PagedList<string, string, Page<string>>(core.fetch, 100);
    list.setQuery('all');
    await core.answer(0, 300);

    list.setQuery('overdue');
    expect(list.getSnapshot().stale).toBe(true);
    expect(list.row(0)).toBe('all:0');
    await core.answer(1, 2);
    expect(list.getSnapshot()).toMatchObject({ stale: false, total: 2 });
    expect(list.row(0)).toBe('overdue:0');
    expect(list.row(150)).toBeUndefined();
  });

  it('ignores an answer to a filter that is no longer shown', async () => {
    const core = scriptedCore();
    const list = new PagedList<string, string, Page<string>>(core.fetch, 100);
    list.setQuery('a');
    list.setQuery('b');
    await core.answer(1, 5);
    await core.answer(0, 9);
    expect(list.getSnapshot().total).toBe(5);
    expect(list.row(0)).toBe('b:0');
  });

  it('refreshes what is in view without blanking it, and forgets the pages out of view', async () => {
    const core = scriptedCore();
    const list = new PagedList<string, string, Page<string>>(core.fetch, 100);
    list.setQuery('all');
    await core.answer(0, 1_000);
    list.show(450, 470);
    await core.answer(1, 1_000);
    list.show(10, 30);

    list.refresh();
    expect(core.asked.map((q) => q.offset)).toEqual([0, 400, 0]);
    // Still shown while asked again.
    expect(list.row(10)).toBe('all:10');
    // Out of view: dropped, asked for again only when it comes back.
    expect(list.row(450)).toBeUndefined();
    await core.answer(2, 999);
    expect(list.getSnapshot().total).toBe(999);
  });

  it('reports a failed page, does not hammer the core with it, and tries again on refresh', async () => {
    const fetch = vi
      .fn<(query: string, offset: number, limit: number) => Promise<Answer>>()
      .mockResolvedValueOnce({ status: 'error', error: commandError('cache') })
      .mockResolvedValue({ status: 'ok', data: { items: ['x'], total: 1, offset: 0 } });
    const list = new PagedList<string, string, Page<string>>(fetch, 100);
    list.setQuery('all');
    await vi.waitFor(() => {
      expect(list.getSnapshot().error?.code).toBe('cache');
    });
    list.show(0, 10);
    expect(fetch).toHaveBeenCalledTimes(1);
    list.refresh();
    await vi.waitFor(() => {
      expect(list.getSnapshot()).toMatchObject({ total: 1, error: null });
    });
    expect(list.row(0)).toBe('x');
  });
});
