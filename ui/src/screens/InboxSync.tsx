// Where the inbox says how it stands with the server: a banner while offline (decisions are
// still taken, and queued), what waits in the outbox, what the server refused and why, and
// "Sync now". A refused decision is never silent: its reason stays listed until it is seen.
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { OutboxItem } from '../api';
import { describeError } from '../errors';
import { AlertIcon, CloseIcon, OfflineIcon, SyncIcon } from '../icons';
import { formatMoment, useNow } from '../list/format';
import { useSyncSnapshot } from '../list/live';
import type { SyncState } from '../list/live';
import { actionName } from '../list/words';

interface SyncBarProps {
  sync: SyncState;
  onOpen: (requestId: string) => void;
  /** Opens a meeting: a refused answer to an invitation names the meeting, not a request. */
  onOpenMeeting?: (meetingId: string) => void;
}

/** An outbox entry that answers a meeting invitation (`rsvp_accept`…). */
function isMeetingAnswer(item: OutboxItem): boolean {
  return item.action.startsWith('rsvp_');
}

export function SyncBar({ sync, onOpen, onOpenMeeting }: SyncBarProps) {
  const { t, i18n } = useTranslation();
  const now = useNow();
  const { status, syncing, error } = useSyncSnapshot(sync);
  const [panelOpen, setPanelOpen] = useState(false);
  const panel = useRef<HTMLDivElement>(null);
  const refused = status?.refused ?? [];
  const pending = status?.outbox_pending ?? 0;

  // Coming back to the inbox checks again, beside the refreshes the core's events bring.
  useEffect(() => {
    void sync.refresh();
  }, [sync]);

  useEffect(() => {
    if (panelOpen) panel.current?.querySelector<HTMLElement>('button, [tabindex]')?.focus();
  }, [panelOpen]);

  const lastSyncAt = status?.last_sync_at ?? null;
  const untrusted =
    status !== null && !status.online && status.last_error?.code === 'server_untrusted'
      ? status.last_error
      : null;
  const recovery = status?.recovery ?? null;
  const lastSync =
    lastSyncAt === null
      ? t('sync.neverSynced')
      : t('sync.lastSynced', { time: formatMoment(lastSyncAt, i18n.language, now) });

  return (
    <div className="sync-area">
      {status !== null && !status.online && untrusted === null && (
        <div className="banner banner-warning" role="status" data-testid="offline-banner">
          <OfflineIcon />
          <p>
            {t('sync.offlineBanner')} <span className="banner-aside">{lastSync}</span>
          </p>
        </div>
      )}
      {untrusted !== null && (
        // The network is fine and waiting will not help: someone has to fix the certificate
        // (or the address), so it is said as a problem, not as being offline.
        <div className="banner banner-error" role="alert" data-testid="untrusted-banner">
          <AlertIcon />
          <p>
            {describeError(t, untrusted)} {t('sync.queuedUntilTrusted')}{' '}
            <span className="banner-aside">{lastSync}</span>
          </p>
        </div>
      )}
      {recovery !== null && (
        <div className="banner banner-warning" role="status" data-testid="sync-recovery">
          <AlertIcon />
          <p>{recovery}</p>
        </div>
      )}
      <div className="sync-bar">
        <button
          type="button"
          className={refused.length > 0 ? 'outbox-indicator outbox-refused' : 'outbox-indicator'}
          data-testid="outbox-indicator"
          aria-expanded={panelOpen}
          aria-controls="outbox-panel"
          disabled={pending === 0 && refused.length === 0}
          onClick={() => {
            setPanelOpen((open) => !open);
          }}
        >
          {pending === 0 && refused.length === 0 && t('outbox.empty')}
          {pending > 0 && <span>{t('outbox.pending', { count: pending })}</span>}
          {refused.length > 0 && (
            <span className="outbox-refused-count">
              <AlertIcon />
              {t('outbox.refusedCount', { count: refused.length })}
            </span>
          )}
        </button>
        {status?.online === true && (
          <span className="sync-last" data-testid="last-synced">
            {lastSync}
          </span>
        )}
        <button
          type="button"
          className="button button-secondary button-small"
          data-testid="sync-now"
          aria-disabled={syncing}
          onClick={() => void sync.syncNow()}
        >
          {syncing ? <span className="spinner spinner-small" aria-hidden="true" /> : <SyncIcon />}
          {syncing ? t('sync.syncing') : t('sync.syncNow')}
        </button>
      </div>
      {error !== null && (
        <div className="banner banner-error" role="alert" data-testid="sync-error">
          <AlertIcon />
          <p>{t('sync.failed', { reason: describeError(t, error) })}</p>
        </div>
      )}
      {panelOpen && (
        <div
          className="outbox-panel card"
          id="outbox-panel"
          ref={panel}
          data-testid="outbox-panel"
          onKeyDown={(event) => {
            if (event.key === 'Escape') setPanelOpen(false);
          }}
        >
          <div className="outbox-panel-head">
            <h2 className="card-title">{t('outbox.title')}</h2>
            <button
              type="button"
              className="icon-button"
              aria-label={t('outbox.close')}
              onClick={() => {
                setPanelOpen(false);
              }}
            >
              <CloseIcon />
            </button>
          </div>
          {pending > 0 && <p className="hint">{t('outbox.pendingHint', { count: pending })}</p>}
          {refused.length > 0 && (
            <ul className="outbox-list">
              {refused.map((item) => (
                <RefusedItem
                  key={item.id}
                  item={item}
                  now={now}
                  onOpen={() => {
                    setPanelOpen(false);
                    if (isMeetingAnswer(item) && onOpenMeeting !== undefined) {
                      onOpenMeeting(item.request_id);
                    } else {
                      onOpen(item.request_id);
                    }
                  }}
                />
              ))}
            </ul>
          )}
        </div>
      )}
    </div>
  );
}

function RefusedItem({ item, now, onOpen }: { item: OutboxItem; now: number; onOpen: () => void }) {
  const { t, i18n } = useTranslation();
  return (
    <li className="outbox-item" data-testid="outbox-refused-item">
      <div className="outbox-item-text">
        <span className="outbox-item-title">
          {t('outbox.refusedAction', {
            action: actionName(t, item.action),
            time: formatMoment(item.created_at, i18n.language, now),
          })}
        </span>
        <span className="outbox-item-reason">
          {item.reason?.message ?? item.last_error ?? t('outbox.noReason')}
        </span>
      </div>
      <button type="button" className="button button-secondary button-small" onClick={onOpen}>
        {t('outbox.open')}
      </button>
    </li>
  );
}
