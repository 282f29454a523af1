// "Are you sure?" for what cannot be undone (deleting a draft, signing a device out, cancelling
// a meeting; the body may hold an input, such as the reason for a cancellation). The
// focus starts on the safe answer, Escape is "no", Tab stays inside, and the focus goes back
// where it was when the dialog closes.
import { useEffect, useRef } from 'react';
import type { KeyboardEvent, ReactNode } from 'react';

interface ConfirmDialogProps {
  title: string;
  body: ReactNode;
  confirmLabel: string;
  cancelLabel: string;
  /** Red for destructive answers. */
  danger?: boolean;
  busy?: boolean;
  /** A problem with the last attempt, shown in the dialog. */
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
  testId?: string;
  /** For the confirming button, when a test or an end-to-end script presses it. */
  confirmTestId?: string;
}

export function ConfirmDialog(props: ConfirmDialogProps) {
  const dialog = useRef<HTMLDivElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    cancel.current?.focus();
    return () => {
      if (before?.isConnected) before.focus();
    };
  }, []);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      props.onCancel();
      return;
    }
    if (event.key !== 'Tab') return;
    const focusable = Array.from(
      dialog.current?.querySelectorAll<HTMLElement>('button, textarea, input, select') ?? [],
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
    <div
      className="dialog-backdrop"
      onMouseDown={(event) => {
        if (event.target === event.currentTarget && props.busy !== true) props.onCancel();
      }}
    >
      <div
        ref={dialog}
        className="dialog"
        role="alertdialog"
        aria-modal="true"
        aria-labelledby="confirm-title"
        aria-describedby="confirm-body"
        data-testid={props.testId}
        onKeyDown={onKeyDown}
      >
        <h2 id="confirm-title" className="dialog-title">
          {props.title}
        </h2>
        <div id="confirm-body" className="dialog-body">
          {props.body}
        </div>
        {props.error !== undefined && props.error !== null && (
          <p className="banner banner-error" role="alert">
            {props.error}
          </p>
        )}
        <div className="dialog-actions">
          <button ref={cancel} type="button" className="button button-secondary" onClick={props.onCancel}>
            {props.cancelLabel}
          </button>
          <button
            type="button"
            className={props.danger === true ? 'button button-danger-solid' : 'button button-primary'}
            data-testid={props.confirmTestId}
            aria-disabled={props.busy === true}
            onClick={() => {
              if (props.busy !== true) props.onConfirm();
            }}
          >
            {props.busy === true && <span className="spinner spinner-small" aria-hidden="true" />}
            {props.confirmLabel}
          </button>
        </div>
      </div>
    </div>
  );
}
