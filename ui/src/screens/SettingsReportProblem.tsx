// "Report a problem": the person says what happened, the core bundles it with the recent log
// into one file (secrets never reach the log), and the dialog shows where that file is, with
// a button that copies the path, so that it can be attached to an e-mail to IT support.
import { useEffect, useRef, useState } from 'react';
import type { KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { CommandError, ProblemReport } from '../api';
import { describeError } from '../errors';
import { AlertIcon, CheckIcon, CopyIcon } from '../icons';

interface ReportProblemDialogProps {
  onClose: () => void;
}

export function ReportProblemDialog({ onClose }: ReportProblemDialogProps) {
  const { t } = useTranslation();
  const [description, setDescription] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [report, setReport] = useState<ProblemReport | null>(null);
  const [copied, setCopied] = useState<'yes' | 'no' | null>(null);
  const dialog = useRef<HTMLDivElement>(null);
  const text = useRef<HTMLTextAreaElement>(null);
  const path = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    text.current?.focus();
    return () => {
      if (before?.isConnected) before.focus();
    };
  }, []);

  const send = async () => {
    if (busy) return;
    setBusy(true);
    setError(null);
    const result = await api.reportProblem(description.trim());
    setBusy(false);
    if (result.status === 'error') {
      setError(result.error);
      return;
    }
    setReport(result.data);
  };

  useEffect(() => {
    if (report !== null) path.current?.select();
  }, [report]);

  const copy = async () => {
    if (report === null) return;
    try {
      await navigator.clipboard.writeText(report.path);
      setCopied('yes');
    } catch {
      // No clipboard (a locked-down webview): the path is selected for Ctrl+C instead.
      path.current?.select();
      setCopied('no');
    }
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape' && !busy) {
      event.preventDefault();
      event.stopPropagation();
      onClose();
      return;
    }
    if (event.key !== 'Tab') return;
    const focusable = Array.from(
      dialog.current?.querySelectorAll<HTMLElement>('button, textarea, input') ?? [],
    );
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (event.shiftKey && document.activeElement === first) {
      event.preventDefault();
      last?.focus();
    } else if (!event.shiftKey && document.activeElement === last) {
      event.preventDefault();
      first?.focus();
    }
  };

  return (
    <div className="dialog-backdrop">
      <div
        ref={dialog}
        className="dialog dialog-wide"
        role="dialog"
        aria-modal="true"
        aria-labelledby="report-title"
        data-testid="report-problem"
        onKeyDown={onKeyDown}
      >
        <h2 id="report-title" className="dialog-title">
          {t('settings.reportTitle')}
        </h2>
        {report === null ? (
          <>
            <div className="field">
              <label htmlFor="report-description">{t('settings.reportDescription')}</label>
              <textarea
                id="report-description"
                ref={text}
                className="input textarea"
                rows={5}
                value={description}
                readOnly={busy}
                aria-describedby="report-hint"
                onChange={(event) => {
                  setDescription(event.target.value);
                }}
              />
              <p id="report-hint" className="hint">
                {t('settings.reportHint')}
              </p>
            </div>
            {error !== null && (
              <div className="banner banner-error" role="alert">
                <AlertIcon />
                <p>{t('settings.reportFailed', { reason: describeError(t, error) })}</p>
              </div>
            )}
            <div className="dialog-actions">
              <button type="button" className="button button-secondary" onClick={onClose}>
                {t('settings.cancel')}
              </button>
              <button
                type="button"
                className="button button-primary"
                aria-disabled={busy || description.trim() === ''}
                onClick={() => {
                  if (description.trim() !== '') void send();
                }}
              >
                {busy && <span className="spinner spinner-small" aria-hidden="true" />}
                {busy ? t('settings.reportWriting') : t('settings.reportCreate')}
              </button>
            </div>
          </>
        ) : (
          <>
            <p role="status">{t('settings.reportWritten')}</p>
            <div className="field">
              <label htmlFor="report-path">{t('settings.reportPath')}</label>
              <div className="copy-field">
                <input
                  id="report-path"
                  ref={path}
                  className="input copy-field-input"
                  type="text"
                  readOnly
                  value={report.path}
                  data-testid="report-path"
                />
                <button type="button" className="button button-secondary" onClick={() => void copy()}>
                  {copied === 'yes' ? <CheckIcon /> : <CopyIcon />}
                  {copied === 'yes' ? t('settings.copied') : t('settings.copy')}
                </button>
              </div>
              <p className="hint" aria-live="polite">
                {copied === 'no' ? t('settings.copyByHand') : t('settings.reportNext')}
              </p>
            </div>
            <div className="dialog-actions">
              <button type="button" className="button button-primary" onClick={onClose}>
                {t('settings.done')}
              </button>
            </div>
          </>
        )}
      </div>
    </div>
  );
}
