// Files in forms. A draft's attachments field adds files through the Rust side only (the
// system's file dialog, or files dropped on the window): the web view never names a path. Each
// file shows where it is — on this computer, uploaded — and opens with the system's app, which
// downloads it first when this computer has no copy yet.
import { createContext, useContext, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { AttachOutcome, AttachmentState, CommandError, Result } from '../api';
import { describeError } from '../errors';
import type { Attachment } from './format';

/** What a draft editor offers its attachments fields. */
export interface DraftFiles {
  attach: (path: string, how: 'pick' | 'dropped') => Promise<Result<AttachOutcome, CommandError>>;
  detach: (path: string, attachment: string) => Promise<Result<unknown, CommandError>>;
}

export const DraftFilesContext = createContext<DraftFiles | null>(null);

export function useDraftFiles(): DraftFiles | null {
  return useContext(DraftFilesContext);
}

/** Where each of `files` is (those with an id), asked again whenever the list changes. */
export function useAttachmentStates(files: Attachment[]): ReadonlyMap<string, AttachmentState> {
  const [states, setStates] = useState<ReadonlyMap<string, AttachmentState>>(new Map());
  const key = files
    .map((file) => file.id)
    .filter((id) => id !== '')
    .join(',');
  useEffect(() => {
    const wanted = key === '' ? [] : key.split(',');
    if (wanted.length === 0) return;
    let gone = false;
    void api.attachmentStates(wanted).then((result) => {
      if (!gone && result.status === 'ok') {
        setStates(new Map(result.data.map((state) => [state.id, state])));
      }
    });
    return () => {
      gone = true;
    };
  }, [key]);
  return states;
}

/**
 * Where a file is. In a draft: "Uploaded" once the server has it, else "On this computer".
 * In a sent request (`sent`) every file is on the server, so what matters is whether it opens
 * offline: "On this computer" or "Not downloaded yet".
 */
export function FileState({
  state,
  sent = false,
}: {
  state: AttachmentState | undefined;
  sent?: boolean;
}) {
  const { t } = useTranslation();
  if (state === undefined) return null;
  const text =
    state.uploaded && !sent
      ? t('form.fileUploaded')
      : state.on_this_device
        ? t('form.fileOnThisComputer')
        : t('form.fileNotDownloaded');
  return <span className="form-file-state">{text}</span>;
}

/** A file's name as a button that opens it; says why when it cannot. */
export function OpenableFile({ id, name }: { id: string; name: string }) {
  const { t } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  const [opening, setOpening] = useState(false);
  if (id === '') return <span className="form-file-name">{name}</span>;
  return (
    <>
      <button
        type="button"
        className="link-button form-file-name"
        aria-label={t('form.openFile', { name })}
        disabled={opening}
        onClick={() => {
          setOpening(true);
          setError(null);
          void api.openAttachment(id).then((result) => {
            setOpening(false);
            if (result.status === 'error') {
              setError(
                result.error.code === 'server_unreachable'
                  ? t('form.fileOfflineNotDownloaded', { name })
                  : describeError(t, result.error),
              );
            }
          });
        }}
      >
        {name}
      </button>
      {error !== null && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
