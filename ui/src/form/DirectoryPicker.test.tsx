import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { DirectoryEntry, DirectoryQuery, DraftView, TemplateInfo } from '../api';
import { draftStore, draftView } from '../test/drafts';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, failed, ok } from '../test/fixtures';
import { templates } from '../test/templates';
import { SEARCH_DELAY_MS } from './DirectoryPicker';
import { DraftEditor } from './DraftEditor';
import { ReadOnlyForm } from './ReadOnlyForm';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

const shenYue: DirectoryEntry = {
  id: '0190d4a0-0000-7000-8000-000000000011',
  kind: 'people',
  name: '沈月',
  detail: '研发部 R&D',
  active: true,
};
const shenHua: DirectoryEntry = {
  id: '0190d4a0-0000-7000-8000-000000000012',
  kind: 'people',
  name: '沈华',
  detail: '财务部 Finance',
  active: true,
};
const shenLi: DirectoryEntry = {
  id: '0190d4a0-0000-7000-8000-000000000013',
  kind: 'people',
  name: '沈丽',
  detail: null,
  active: false,
};
const rd: DirectoryEntry = {
  id: '0190d4a0-0000-7000-8000-0000000000d6',
  kind: 'departments',
  name: '研发部 R&D',
  detail: 'RD',
  active: true,
};
const directory = [shenYue, shenHua, shenLi, rd];
const nobody = '0190d4a0-0000-7000-8000-0000000000ff';

/** A directory that answers as the core does: by name or detail, people or departments. */
function answerFromDirectory() {
  fakeCommands.directorySearch.mockImplementation((query: DirectoryQuery) =>
    Promise.resolve(
      ok(
        directory.filter(
          (entry) =>
            entry.kind === query.kind &&
            `${entry.name} ${entry.detail ?? ''}`.toLowerCase().includes((query.text ?? '').toLowerCase()),
        ),
      ),
    ),
  );
  fakeCommands.directoryNames.mockImplementation((ids: string[]) =>
    Promise.resolve(ok(directory.filter((entry) => ids.includes(entry.id)))),
  );
}

function renderEditor(template: TemplateInfo, draft: DraftView = draftView(template)) {
  draftStore(draft);
  return render(<DraftEditor draftId={draft.id} initial={{ draft, template }} onClose={vi.fn()} />);
}

const cover = () => screen.getByRole('combobox', { name: 'Cover' });

describe('DirectoryPicker in the draft editor', () => {
  beforeEach(() => {
    resetFakeCommands();
    answerFromDirectory();
  });

  it('searches the directory with what is typed once typing pauses, not per keystroke', async () => {
    // Fake clocks for the pause; events fired directly, as user-event waits on clocks of its own.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      renderEditor(templates.leave);
      for (const text of ['R', 'R&', 'R&D']) {
        fireEvent.change(cover(), { target: { value: text } });
        await act(async () => {
          await vi.advanceTimersByTimeAsync(SEARCH_DELAY_MS - 50);
        });
      }
      expect(fakeCommands.directorySearch).not.toHaveBeenCalled();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(50);
      });
      expect(fakeCommands.directorySearch).toHaveBeenCalledExactlyOnceWith({
        kind: 'people',
        text: 'R&D',
        limit: 20,
      });
      const list = screen.getByRole('listbox', { name: 'People' });
      expect(within(list).getByRole('option')).toHaveTextContent('沈月研发部 R&D');
    } finally {
      vi.useRealTimers();
    }
  });

  it('sets the field to the chosen id through the editor, saved at once, and shows the name', async () => {
    const user = userEvent.setup();
    renderEditor(templates.leave);
    await user.type(cover(), '沈月');
    await screen.findByRole('option', { name: /沈月/ });
    await user.keyboard('{Enter}');

    // The domain's person value is the id, sent as JSON without waiting for the typing pause.
    expect(fakeCommands.draftSet).toHaveBeenCalledExactlyOnceWith(
      'draft-1',
      'handover',
      JSON.stringify(shenYue.id),
    );
    expect(cover()).toHaveValue('沈月');
    expect(cover()).toHaveAttribute('aria-expanded', 'false');
    expect(cover()).toHaveAccessibleDescription('研发部 R&D');
  });

  it('moves with the arrow keys, chooses with Enter, and closes with Escape keeping the value', async () => {
    const user = userEvent.setup();
    renderEditor(templates.leave);
    await user.type(cover(), '沈');
    // The list's options (the leave type's <select> has options of its own).
    const options = within(await screen.findByRole('listbox', { name: 'People' })).getAllByRole(
      'option',
    );
    expect(cover()).toHaveAttribute('aria-expanded', 'true');
    expect(options[0]).toHaveAttribute('aria-selected', 'true');
    expect(cover()).toHaveAttribute('aria-activedescendant', options[0]?.id);

    await user.keyboard('{ArrowDown}{ArrowDown}');
    expect(options[2]).toHaveAttribute('aria-selected', 'true');
    expect(cover()).toHaveAttribute('aria-activedescendant', options[2]?.id);
    // The last option stays the last: the list does not wrap past the end.
    await user.keyboard('{ArrowDown}{ArrowUp}');
    expect(options[1]).toHaveAttribute('aria-selected', 'true');
    expect(options[0]).toHaveAttribute('aria-selected', 'false');

    await user.keyboard('{Escape}');
    expect(screen.queryByRole('listbox')).not.toBeInTheDocument();
    expect(cover()).toHaveAttribute('aria-expanded', 'false');
    expect(cover()).not.toHaveAttribute('aria-activedescendant');
    // What was typed was only a search: the field is as it was, and nothing was saved.
    expect(cover()).toHaveValue('');
    expect(fakeCommands.draftSet).not.toHaveBeenCalled();

    // Arrow down opens the list again; Enter takes the highlighted one.
    await user.keyboard('{ArrowDown}');
    await screen.findByRole('listbox', { name: 'People' });
    await user.keyboard('{ArrowDown}{Enter}');
    expect(fakeCommands.draftSet).toHaveBeenCalledExactlyOnceWith(
      'draft-1',
      'handover',
      JSON.stringify(shenHua.id),
    );
  });

  it('lists someone who left the company, marked, and can be chosen with the mouse', async () => {
    const user = userEvent.setup();
    renderEditor(templates.leave);
    await user.type(cover(), '沈丽');
    const option = await screen.findByRole('option', { name: /沈丽/ });
    expect(option).toHaveTextContent('left the company');
    await user.click(option);
    expect(fakeCommands.draftSet).toHaveBeenCalledExactlyOnceWith(
      'draft-1',
      'handover',
      JSON.stringify(shenLi.id),
    );
    expect(cover()).toHaveAccessibleDescription('left the company');
  });

  it('says so when nothing matches, and when the directory cannot be searched', async () => {
    const user = userEvent.setup();
    renderEditor(templates.leave);
    await user.type(cover(), '100%');
    expect(await screen.findByText('No one matches “100%”.')).toHaveAttribute('role', 'status');
    fakeCommands.directorySearch.mockResolvedValue(failed(commandError('cache')));
    await user.type(cover(), 'x');
    expect(await screen.findByText(/The directory could not be searched/)).toBeInTheDocument();
  });

  it('shows the name of the id already in the draft, and an unknown id as it is', async () => {
    const { unmount } = renderEditor(
      templates.leave,
      draftView(templates.leave, { form: { handover: shenYue.id } }),
    );
    await waitFor(() => {
      expect(cover()).toHaveValue('沈月');
    });
    expect(fakeCommands.directoryNames).toHaveBeenCalledWith([shenYue.id]);
    unmount();

    renderEditor(templates.leave, draftView(templates.leave, { form: { handover: nobody } }));
    expect(await screen.findByText('not in the directory')).toBeInTheDocument();
    expect(cover()).toHaveValue(nobody);
  });

  it('empties the field when the box is emptied', async () => {
    const user = userEvent.setup();
    renderEditor(templates.leave, draftView(templates.leave, { form: { handover: shenYue.id } }));
    await waitFor(() => {
      expect(cover()).toHaveValue('沈月');
    });
    await user.clear(cover());
    await user.tab();
    expect(fakeCommands.draftSet).toHaveBeenCalledExactlyOnceWith('draft-1', 'handover', 'null');
  });

  it('searches departments by name or code for a department field', async () => {
    const user = userEvent.setup();
    renderEditor(templates.accountApplication);
    const department = screen.getByRole('combobox', { name: 'Department' });
    await user.type(department, 'rd');
    const option = await screen.findByRole('option', { name: /研发部/ });
    expect(option).toHaveTextContent('RD');
    expect(fakeCommands.directorySearch).toHaveBeenLastCalledWith({
      kind: 'departments',
      text: 'rd',
      limit: 20,
    });
    await user.keyboard('{Enter}');
    expect(fakeCommands.draftSet).toHaveBeenCalledWith('draft-1', 'department', JSON.stringify(rd.id));
  });
});

describe('people and departments in a read-only form', () => {
  beforeEach(() => {
    resetFakeCommands();
    answerFromDirectory();
  });

  /** The `<dd>` that shows a field's value, found by the field's label. */
  function valueOf(label: string): HTMLElement {
    const value = screen.getByText(label, { selector: 'dt' }).nextElementSibling;
    if (!(value instanceof HTMLElement)) throw new Error(`no value for ${label}`);
    return value;
  }

  it('shows names, not ids, asking the directory once for the whole form', async () => {
    render(
      <ReadOnlyForm
        template={templates.accountApplication}
        form={{ department: rd.id }}
        computed={{}}
      />,
    );
    await waitFor(() => {
      expect(valueOf('Department')).toHaveTextContent('研发部 R&D');
    });
    expect(valueOf('Department')).not.toHaveTextContent(rd.id);
    expect(fakeCommands.directoryNames).toHaveBeenCalledExactlyOnceWith([rd.id]);

    render(
      <ReadOnlyForm template={templates.leave} form={{ handover: shenLi.id }} computed={{}} />,
    );
    await waitFor(() => {
      expect(valueOf('Cover')).toHaveTextContent('沈丽left the company');
    });
  });

  it('shows an id the directory does not know as it is, saying so', async () => {
    render(<ReadOnlyForm template={templates.leave} form={{ handover: nobody }} computed={{}} />);
    await waitFor(() => {
      expect(valueOf('Cover')).toHaveTextContent(`${nobody} not in the directory`);
    });
  });

  it('shows the id without a verdict when the directory cannot be read', async () => {
    fakeCommands.directoryNames.mockResolvedValue(failed(commandError('cache')));
    render(<ReadOnlyForm template={templates.leave} form={{ handover: shenYue.id }} computed={{}} />);
    await waitFor(() => {
      expect(valueOf('Cover')).toHaveTextContent(shenYue.id);
    });
    expect(valueOf('Cover')).not.toHaveTextContent('not in the directory');
  });
});
