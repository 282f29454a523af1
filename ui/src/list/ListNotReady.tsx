// What a list shows before its first page is in: the reason it could not be read, with a
// way to try again, or that it is being read. The inbox and "my requests" say it alike.
import { useTranslation } from 'react-i18next';
import type { CommandError } from '../api';
import { describeError } from '../errors';
import { AlertIcon } from '../icons';

interface ListNotReadyProps {
  error: CommandError | null;
  onRetry: () => void;
  /** `inbox` or `my-requests`: the test ids are `<prefix>-error` and `<prefix>-loading`. */
  testIdPrefix: string;
  /** The texts, already in the person's language; `failed` is given the reason in words. */
  words: { failed: (reason: string) => string; retry: string; loading: string };
}

export function ListNotReady({ error, onRetry, testIdPrefix, words }: ListNotReadyProps) {
  const { t } = useTranslation();
  if (error !== null) {
    return (
      <div className="banner banner-error" role="alert" data-testid={`${testIdPrefix}-error`}>
        <AlertIcon />
        <p>{words.failed(describeError(t, error))}</p>
        <button type="button" className="button button-secondary button-small" onClick={onRetry}>
          {words.retry}
        </button>
      </div>
    );
  }
  return (
    <div className="list-loading" role="status" data-testid={`${testIdPrefix}-loading`}>
      <span className="spinner spinner-small" aria-hidden="true" />
      {words.loading}
    </div>
  );
}
