// The state the signed-in window keeps across its screens: the inbox and "my requests" lists
// (kept while the person goes elsewhere, so coming back shows them at once), the sync status
// (online or not, what waits in the outbox, what the server refused), and a count of the
// core's "lists changed" events for screens that reload whole (a request, the drafts).
//
// One `useLive` per signed-in shell: signing out drops it all with the shell.
import { useEffect, useState, useSyncExternalStore } from 'react';
import { api } from '../api';
import type {
  CommandError,
  InboxEntry,
  InboxPage,
  InboxQuery,
  MyRequestEntry,
  MyRequestsPage,
  MyRequestsQuery,
  SlaFilter,
  SyncStatus,
} from '../api';
import { onChanged } from '../events';
import { PagedList } from './pagedList';

/** What the inbox filters by; the offset and page size are the list's business. */
export type InboxFilter = Omit<InboxQuery, 'offset' | 'limit'>;
export type MyRequestsFilter = Omit<MyRequestsQuery, 'offset' | 'limit'>;

export type InboxList = PagedList<InboxEntry, InboxFilter, InboxPage>;
export type MyRequestsList = PagedList<MyRequestEntry, MyRequestsFilter, MyRequestsPage>;

export interface SyncSnapshot {
  status: SyncStatus | null;
  /** A "Sync now" is running. */
  syncing: boolean;
  /** Why the last "Sync now" failed (the status itself then says offline too). */
  error: CommandError | null;
}

/** The sync status, asked for on start, after every change, and by "Sync now". */
export class SyncState {
  private snapshot: SyncSnapshot = { status: null, syncing: false, error: null };
  private readonly listeners = new Set<() => void>();
  /** Only the newest question's answer may land. */
  private asked = 0;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  readonly getSnapshot = (): SyncSnapshot => this.snapshot;

  async refresh(): Promise<void> {
    const asked = ++this.asked;
    const result = await api.syncStatus();
    if (asked !== this.asked || result.status === 'error') return;
    this.update({ status: result.data });
  }

  /** Syncs at once; resolves when the core has answered (or failed to). */
  async syncNow(): Promise<void> {
    if (this.snapshot.syncing) return;
    const asked = ++this.asked;
    this.update({ syncing: true, error: null });
    const result = await api.syncNow();
    const latest = asked === this.asked;
    if (result.status === 'ok') {
      this.update(latest ? { status: result.data, syncing: false } : { syncing: false });
    } else {
      this.update({ syncing: false, error: result.error });
      void this.refresh();
    }
  }

  private update(change: Partial<SyncSnapshot>): void {
    this.snapshot = { ...this.snapshot, ...change };
    for (const listener of this.listeners) listener();
  }
}

export interface Live {
  inbox: InboxList;
  myRequests: MyRequestsList;
  sync: SyncState;
  /** Bumped by every "lists changed" event. */
  changes: number;
}

/**
 * The inbox's filter. Every inbox query is built here, so that the same filter is always the
 * same key (`PagedList` compares queries by their JSON).
 */
export function inboxFilter(
  search: string | null,
  templateId: string | null,
  sla: SlaFilter | null,
): InboxFilter {
  return { search, template_id: templateId, sla };
}

/** What the inbox shows when it opens: every task waiting, oldest first. */
export const WHOLE_INBOX: InboxFilter = inboxFilter(null, null, null);

export type LiveLists = ReturnType<typeof createLiveLists>;

/** The lists and the sync state, empty; `useLive` keeps one set per signed-in window. */
export function createLiveLists() {
  return {
    inbox: new PagedList<InboxEntry, InboxFilter, InboxPage>((filter, offset, limit) =>
      api.inbox({ ...filter, offset, limit }),
    ),
    myRequests: new PagedList<MyRequestEntry, MyRequestsFilter, MyRequestsPage>(
      (filter, offset, limit) => api.myRequests({ ...filter, offset, limit }),
    ),
    sync: new SyncState(),
  };
}

/**
 * The lists with the inbox's first page already asked for. The start calls this as soon as it
 * knows someone is signed in, so that the core reads the page while the window draws the
 * shell around it rather than after.
 */
export function listsAskedEarly(): LiveLists {
  const lists = createLiveLists();
  lists.inbox.setQuery(WHOLE_INBOX);
  return lists;
}

/**
 * The signed-in window's lists and sync status, kept current by the core's events: `early`
 * when the start prepared them (see `listsAskedEarly`), else new ones.
 */
export function useLive(early: LiveLists | null = null): Live {
  const [lists] = useState(() => early ?? createLiveLists());
  const [changes, setChanges] = useState(0);
  useEffect(() => {
    void lists.sync.refresh();
    return onChanged(() => {
      lists.inbox.refresh();
      lists.myRequests.refresh();
      void lists.sync.refresh();
      setChanges((count) => count + 1);
    });
  }, [lists]);
  return { ...lists, changes };
}

export function useSyncSnapshot(sync: SyncState): SyncSnapshot {
  return useSyncExternalStore(sync.subscribe, sync.getSnapshot);
}
