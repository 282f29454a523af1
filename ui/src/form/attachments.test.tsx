import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DraftView } from '../api';
import { draftView } from '../test/drafts';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, failed, ok } from '../test/fixtures';
import { templates } from '../test/templates';
import { DraftEditor } from './DraftEditor';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

const file = {
  id: '0196f0a0-0000-7000-8000-00000000000a',
  name: 'certificate.pdf',
  size: 2048,
  content_type: 'application/pdf',
};

function renderLeave(draft: DraftView) {
  render(
    <DraftEditor draftId={draft.id} initial={{ draft, template: templates.leave }} onClose={vi.fn()} />,
  );
  return screen.getByRole('group', { name: 'Certificate' });
}

describe('AttachmentsInput', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('adds files picked in the system dialog and shows where each one is', async () => {
    const empty = draftView(templates.leave);
    const withFile = { ...empty, form: { certificate: [file] } };
    fakeCommands.draftAttachPick.mockResolvedValue(ok({ draft: withFile, refused: [] }));
    const field = renderLeave(empty);

    await userEvent.click(within(field).getByRole('button', { name: 'Add files…' }));

    expect(await within(field).findByRole('button', { name: 'Open certificate.pdf' })).toBeInTheDocument();
    expect(fakeCommands.draftAttachPick).toHaveBeenCalledWith(empty.id, 'certificate');
    expect(await within(field).findByText('On this computer')).toBeInTheDocument();
    expect(within(field).getByText('2.0 KB')).toBeInTheDocument();
  });

  it('removes a file through the core, which deletes its copy', async () => {
    const empty = draftView(templates.leave);
    fakeCommands.draftDetach.mockResolvedValue(ok(empty));
    const field = renderLeave({ ...empty, form: { certificate: [file] } });

    await userEvent.click(within(field).getByRole('button', { name: 'Remove certificate.pdf' }));

    expect(await within(field).findByText('No files attached.')).toBeInTheDocument();
    expect(fakeCommands.draftDetach).toHaveBeenCalledWith(empty.id, 'certificate', file.id);
  });

  it('says why a file was refused, in the words the core chose', async () => {
    const empty = draftView(templates.leave);
    fakeCommands.draftAttachPick.mockResolvedValue(
      ok({
        draft: empty,
        refused: [
          commandError('file_too_large', {
            message: '“scan.pdf” is 25 MB; this field takes files up to 20 MB.',
          }),
        ],
      }),
    );
    const field = renderLeave(empty);

    await userEvent.click(within(field).getByRole('button', { name: 'Add files…' }));

    expect(await within(field).findByRole('alert')).toHaveTextContent('up to 20 MB');
    expect(within(field).getByText('No files attached.')).toBeInTheDocument();
  });

  it('says plainly when a file cannot be opened offline before it was downloaded', async () => {
    const empty = draftView(templates.leave);
    fakeCommands.openAttachment.mockResolvedValue(
      failed(commandError('server_unreachable')),
    );
    const field = renderLeave({ ...empty, form: { certificate: [file] } });

    await userEvent.click(within(field).getByRole('button', { name: 'Open certificate.pdf' }));

    await waitFor(() => {
      expect(within(field).getByRole('alert')).toHaveTextContent('not on this computer yet');
    });
  });
});
