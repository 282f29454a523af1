// A long list (the inbox, my requests) read from the core a page at a time. The core answers
// any page by offset from its cache, so a list of 100 000 requests costs only the pages the
// person scrolls past: the store keeps those pages, asks for the ones that come into view,
// and forgets them all when the filter changes (the offsets then mean other rows).
//
// Nothing blanks while the core is asked: a refresh (the core says the lists changed) keeps the
// rows shown until their new answer arrives, dropping only pages out of view; a new filter
// keeps the previous answer on screen (marked `stale`) until the first page of the new one
// is in.
import { useEffect, useSyncExternalStore } from 'react';
import type { CommandError, Result } from '../api';

export interface Page<Row> {
  items: Row[];
  /** Rows matching the query in all: the list's length. */
  total: number;
  offset: number;
}

export type FetchPage<Query, P> = (
  query: Query,
  offset: number,
  limit: number,
) => Promise<Result<P, CommandError>>;

export interface PagedSnapshot<P> {
  /** The list's length by the newest answer; null until the current query has one. */
  total: number | null;
  /** The newest page answered, for what it carries beside its rows (the template counts). */
  latest: P | null;
  /** Why the newest request for a page failed; cleared by the next answer. */
  error: CommandError | null;
  /** True while a page for the current query is being asked for. */
  loading: boolean;
  /** The rows shown still answer the previous query: the new one has not answered yet. */
  stale: boolean;
  /** Changes whenever rows arrive or go, so that views showing rows render again. */
  revision: number;
}

interface StoredPage<Row> {
  rows: Row[];
  /** The refresh the rows were answered in: older ones are shown until replaced. */
  epoch: number;
}

/** Rows per request: a few screenfuls, well under the core's cap of 500. */
export const PAGE_SIZE = 100;
/** Pages kept at most; the farthest from view go first. */
const MAX_PAGES = 30;

export class PagedList<Row, Query, P extends Page<Row>> {
  private readonly pages = new Map<number, StoredPage<Row>>();
  /** Page → the epoch it is being asked for in. */
  private readonly inFlight = new Map<number, number>();
  /** Page → the epoch its request failed in; not retried until the next refresh. */
  private readonly failed = new Map<number, number>();
  private readonly listeners = new Set<() => void>();
  private query: Query | null = null;
  private queryKey: string | null = null;
  /** Bumped by a new query: answers to an older one are ignored. */
  private generation = 0;
  /** Bumped by a refresh or a new query: older pages are replaced as soon as possible. */
  private epoch = 0;
  /** The pages kept belong to the previous query, until the new one first answers. */
  private replacing = false;
  private visible: [number, number] = [0, 0];
  private snapshot: PagedSnapshot<P> = {
    total: null,
    latest: null,
    error: null,
    loading: false,
    stale: false,
    revision: 0,
  };

  constructor(
    private readonly fetchPage: FetchPage<Query, P>,
    readonly pageSize = PAGE_SIZE,
    private readonly maxPages = MAX_PAGES,
  ) {}

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  readonly getSnapshot = (): PagedSnapshot<P> => this.snapshot;

  /** The query currently shown, as last set. */
  currentQuery(): Query | null {
    return this.query;
  }

  /** The row at `index`, if its page has been answered. */
  row(index: number): Row | undefined {
    return this.pages.get(Math.floor(index / this.pageSize))?.rows[index % this.pageSize];
  }

  /**
   * Shows `query`. The same query again keeps the pages (coming back to a list shows it as
   * it was at once) and only checks them again; another query starts from its first page,
   * with the previous answer shown until then.
   */
  setQuery(query: Query): void {
    const key = JSON.stringify(query);
    if (key === this.queryKey) {
      // Its first answer still on the way is as fresh as asking again would be (the list
      // was asked for before the screen showing it was drawn).
      if (this.snapshot.total === null && this.inFlight.get(0) === this.epoch) return;
      this.refresh();
      return;
    }
    const first = this.query === null;
    this.query = query;
    this.queryKey = key;
    this.generation += 1;
    this.epoch += 1;
    this.inFlight.clear();
    this.failed.clear();
    this.replacing = !first && this.pages.size > 0;
    if (!this.replacing) this.pages.clear();
    this.update({
      total: this.replacing ? this.snapshot.total : null,
      error: null,
      stale: this.replacing,
    });
    this.fetch(0);
  }

  /** Rows `first`..`last` (inclusive) are in view: asks for the pages missing among them. */
  show(first: number, last: number): void {
    this.visible = [Math.max(0, first), Math.max(first, last)];
    for (const page of this.visiblePages()) {
      const current = this.pages.get(page)?.epoch === this.epoch;
      if (!current && this.inFlight.get(page) !== this.epoch && this.failed.get(page) !== this.epoch) {
        this.fetch(page);
      }
    }
  }

  /** The rows may have changed: asks again for what is in view and forgets the rest. */
  refresh(): void {
    if (this.query === null) return;
    this.epoch += 1;
    this.failed.clear();
    const inView = new Set(this.visiblePages());
    let dropped = false;
    for (const page of [...this.pages.keys()]) {
      if (!inView.has(page)) {
        this.pages.delete(page);
        dropped = true;
      }
    }
    if (dropped) this.update({ revision: this.snapshot.revision + 1 });
    if (this.snapshot.total === null || inView.size === 0) this.fetch(0);
    this.show(...this.visible);
  }

  private visiblePages(): number[] {
    const total = this.snapshot.total;
    if (total === null || total === 0) return [];
    const [first, last] = this.visible;
    const lastRow = Math.min(last, total - 1);
    if (first > lastRow) return [];
    const pages: number[] = [];
    for (let page = Math.floor(first / this.pageSize); page <= Math.floor(lastRow / this.pageSize); page++) {
      pages.push(page);
    }
    return pages;
  }

  private fetch(page: number): void {
    const query = this.query;
    if (query === null) return;
    const generation = this.generation;
    const epoch = this.epoch;
    this.inFlight.set(page, epoch);
    if (!this.snapshot.loading) this.update({ loading: true });
    void this.fetchPage(query, page * this.pageSize, this.pageSize).then((result) => {
      if (generation !== this.generation) return;
      if (this.inFlight.get(page) === epoch) this.inFlight.delete(page);
      const loading = this.inFlight.size > 0;
      if (this.replacing) {
        // The new query's first answer: the previous query's rows go.
        this.replacing = false;
        this.pages.clear();
        if (result.status === 'error') {
          this.failed.set(page, epoch);
          this.update({ total: null, error: result.error, loading, stale: false });
          return;
        }
      }
      if (result.status === 'error') {
        this.failed.set(page, epoch);
        this.update({ error: result.error, loading });
        return;
      }
      const stored = this.pages.get(page);
      if (stored?.epoch !== undefined && stored.epoch > epoch) {
        this.update({ loading });
        return;
      }
      this.pages.set(page, { rows: result.data.items, epoch });
      this.forgetFarPages();
      this.update({
        total: result.data.total,
        latest: result.data,
        error: null,
        loading,
        stale: false,
        revision: this.snapshot.revision + 1,
      });
    });
  }

  private forgetFarPages(): void {
    if (this.pages.size <= this.maxPages) return;
    const middle = (this.visible[0] + this.visible[1]) / 2 / this.pageSize;
    const byDistance = [...this.pages.keys()].sort(
      (a, b) => Math.abs(b - middle) - Math.abs(a - middle),
    );
    for (const page of byDistance.slice(0, this.pages.size - this.maxPages)) {
      this.pages.delete(page);
    }
  }

  private update(change: Partial<PagedSnapshot<P>>): void {
    this.snapshot = { ...this.snapshot, ...change };
    for (const listener of this.listeners) listener();
  }
}

/** Shows `query` from `list` and renders again whenever its rows or state change. */
export function usePagedList<Row, Query, P extends Page<Row>>(
  list: PagedList<Row, Query, P>,
  query: Query,
): PagedSnapshot<P> {
  const key = JSON.stringify(query);
  useEffect(() => {
    list.setQuery(JSON.parse(key) as Query);
  }, [list, key]);
  return useSyncExternalStore(list.subscribe, list.getSnapshot);
}
