import { act, fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DraftView, TemplateInfo } from '../api';
import { i18n } from '../i18n';
import { draftStore, draftView, tenFortyTwo } from '../test/drafts';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, deferred, failed, ok } from '../test/fixtures';
import { templates } from '../test/templates';
import { DraftEditor } from './DraftEditor';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

function renderEditor(template: TemplateInfo, draft: DraftView = draftView(template)) {
  const onClose = vi.fn();
  const view = render(<DraftEditor draftId={draft.id} initial={{ draft, template }} onClose={onClose} />);
  return { onClose, ...view };
}

const autosave = () => screen.getByTestId('autosave-state');

/** The message element an input points at with aria-describedby. */
function describedText(input: HTMLElement): string {
  const ids = (input.getAttribute('aria-describedby') ?? '').split(' ').filter((id) => id !== '');
  return ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' ');
}

const oneLine = {
  lines: [{ date: '2026-03-02', category: 'travel', description: 'Train' }],
};

describe('DraftEditor: every field kind of the built-in templates', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('draws text, tables, money and the computed total of a reimbursement', () => {
    renderEditor(templates.reimbursement, draftView(templates.reimbursement, { form: oneLine }));
    expect(screen.getByRole('textbox', { name: 'Purpose' })).toHaveAttribute('aria-required', 'true');
    expect(screen.getByRole('textbox', { name: 'Notes' }).tagName).toBe('TEXTAREA');
    const table = screen.getByRole('table', { name: 'Expense lines' });
    expect(within(table).getByLabelText('Date, line 1')).toHaveValue('2026-03-02');
    expect(within(table).getByRole('combobox', { name: 'Category, line 1' })).toHaveValue('travel');
    expect(within(table).getByRole('textbox', { name: 'Amount, line 1' })).toHaveValue('');
    expect(within(table).getByRole('group', { name: 'Invoice, line 1' })).toHaveTextContent(
      'No files attached.',
    );
    expect(screen.getByRole('button', { name: 'Add a line' })).toBeInTheDocument();
    expect(screen.getByTestId('computed-total')).toHaveTextContent('Not filled in');
  });

  it('draws a choice, a date range with half days, a person and attachments for leave', () => {
    renderEditor(templates.leave);
    const type = screen.getByRole('combobox', { name: 'Leave type' });
    expect(within(type).getByRole('option', { name: 'Sick leave' })).toBeInTheDocument();
    const period = screen.getByRole('group', { name: 'Period' });
    expect(within(period).getByLabelText('From')).toHaveAttribute('type', 'date');
    expect(within(period).getByLabelText('To')).toHaveAttribute('type', 'date');
    expect(within(period).getByRole('combobox', { name: 'Starting' })).toHaveValue('am');
    expect(within(period).getByRole('combobox', { name: 'Ending' })).toHaveValue('pm');
    expect(screen.getByRole('combobox', { name: 'Cover' })).toBeInTheDocument();
    expect(screen.getByRole('group', { name: 'Certificate' })).toHaveAccessibleDescription(
      'Sick leave of more than 2 days needs a medical certificate',
    );
  });

  it('draws date-times and a number for overtime, checkboxes and a department for accounts', () => {
    const { unmount } = renderEditor(templates.overtime);
    expect(screen.getByLabelText('Start')).toHaveAttribute('type', 'datetime-local');
    expect(screen.getByRole('textbox', { name: 'Hours' })).toHaveAttribute('inputmode', 'decimal');
    unmount();
    renderEditor(templates.accountApplication);
    const systems = screen.getByRole('group', { name: 'Systems' });
    expect(within(systems).getAllByRole('checkbox')).toHaveLength(6);
    expect(screen.getByRole('combobox', { name: 'Department' })).toBeInTheDocument();
    expect(screen.getByLabelText('Start date')).toHaveAttribute('type', 'date');
  });

  it('shows the placeholder with the template id for a form this version cannot draw', () => {
    const newer = {
      ...templates.leave,
      id: 'signed_leave',
      form: {
        fields: [{ key: 'ink', label: { 'zh-CN': '签名', en: 'Signature' }, type: { kind: 'ink' } }],
      },
    } as unknown as TemplateInfo;
    renderEditor(newer);
    expect(screen.getByTestId('form-unavailable')).toHaveTextContent(
      'This form cannot be shown in this version of Countersign',
    );
    expect(screen.getByTestId('form-unavailable')).toHaveTextContent('“signed_leave”');
  });
});

describe('DraftEditor: saving as it is typed', () => {
  // Fake clocks for the debounce. Events are fired directly: user-event waits on timers of
  // its own that fake clocks would stop.
  beforeEach(() => {
    resetFakeCommands();
    // Only the clocks: React's scheduler needs its own setImmediate.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(new Date(tenFortyTwo));
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  const pause = (ms: number) =>
    act(async () => {
      await vi.advanceTimersByTimeAsync(ms);
    });
  const type = (input: HTMLElement, value: string) => {
    fireEvent.change(input, { target: { value } });
  };
  const leave = (input: HTMLElement) => {
    fireEvent.focusOut(input);
  };

  it('sends one change per field once typing pauses for ~400 ms, as JSON', async () => {
    draftStore(draftView(templates.reimbursement));
    renderEditor(templates.reimbursement);
    const purpose = screen.getByRole('textbox', { name: 'Purpose' });
    type(purpose, 'Cli');
    await pause(300);
    type(purpose, 'Client visit');
    await pause(300);
    expect(fakeCommands.draftSet).not.toHaveBeenCalled();
    await pause(100);
    expect(fakeCommands.draftSet).toHaveBeenCalledExactlyOnceWith(
      'draft-1',
      'purpose',
      '"Client visit"',
    );
  });

  it('sends a money cell as {amount, currency} with the amount a string, at once on leaving it', async () => {
    draftStore(draftView(templates.reimbursement, { form: oneLine }), {
      compute: () => ({ total: { kind: 'money', value: { amount: '1234.50', currency: 'CNY' } } }),
    });
    renderEditor(templates.reimbursement, draftView(templates.reimbursement, { form: oneLine }));
    const amount = screen.getByRole('textbox', { name: 'Amount, line 1' });
    type(amount, '1,234.50');
    leave(amount);
    await pause(0);
    expect(fakeCommands.draftSet).toHaveBeenCalledExactlyOnceWith(
      'draft-1',
      'lines[0].amount',
      '{"amount":"1234.50","currency":"CNY"}',
    );
    // What was typed stays as typed; the total is the core's.
    expect(amount).toHaveValue('1,234.50');
    expect(screen.getByTestId('computed-total')).toHaveTextContent('CNY 1,234.50');
  });

  it('sends a table cell such as lines[0].amount = {"amount":"12.50","currency":"CNY"}', async () => {
    draftStore(draftView(templates.reimbursement, { form: oneLine }));
    renderEditor(templates.reimbursement, draftView(templates.reimbursement, { form: oneLine }));
    type(screen.getByRole('textbox', { name: 'Amount, line 1' }), '12.50');
    await pause(400);
    expect(fakeCommands.draftSet).toHaveBeenCalledExactlyOnceWith(
      'draft-1',
      'lines[0].amount',
      '{"amount":"12.50","currency":"CNY"}',
    );
  });

  it('shows leave days from the core as the period is chosen, half days included', async () => {
    const store = draftStore(draftView(templates.leave), {
      compute: (form) =>
        (form['period'] as { end?: string } | undefined)?.end === undefined
          ? {}
          : { days: { kind: 'number', value: '2.5' } },
    });
    renderEditor(templates.leave);
    const period = screen.getByRole('group', { name: 'Period' });
    type(within(period).getByLabelText('From'), '2026-03-02');
    type(within(period).getByRole('combobox', { name: 'Starting' }), 'pm');
    type(within(period).getByLabelText('To'), '2026-03-04');
    await pause(400);
    expect(fakeCommands.draftSet).toHaveBeenCalledOnce();
    const [, path, json] = fakeCommands.draftSet.mock.calls[0] ?? [];
    expect(path).toBe('period');
    expect(JSON.parse(json ?? '')).toEqual({ start: '2026-03-02', start_half: 'pm', end: '2026-03-04' });
    expect(store.current().form).toEqual({
      period: { start: '2026-03-02', start_half: 'pm', end: '2026-03-04' },
    });
    expect(screen.getByTestId('computed-days')).toHaveTextContent('2.5 working days');
  });

  it('says "Saving…" while a change is on its way and "Saved at" the time of the answer', async () => {
    const answer = deferred<Awaited<ReturnType<typeof fakeCommands.draftSet>>>();
    fakeCommands.draftSet.mockReturnValue(answer.promise);
    renderEditor(templates.reimbursement);
    expect(autosave()).toHaveTextContent('Saved at 10:42');

    type(screen.getByRole('textbox', { name: 'Purpose' }), 'Trip');
    expect(autosave()).toHaveTextContent('Saving…');
    await pause(400);
    expect(autosave()).toHaveTextContent('Saving…');

    const later = new Date(tenFortyTwo);
    later.setMinutes(43);
    await act(async () => {
      answer.resolve(
        ok(draftView(templates.reimbursement, { form: { purpose: 'Trip' }, updated_at: later.toISOString() })),
      );
      await answer.promise;
    });
    expect(autosave()).toHaveTextContent('Saved at 10:43');
  });

  it('says "已保存" with the time in Chinese', async () => {
    await act(async () => {
      await i18n.changeLanguage('zh-CN');
    });
    draftStore(draftView(templates.reimbursement));
    renderEditor(templates.reimbursement);
    expect(autosave()).toHaveTextContent('已保存 10:42');
  });

  it('keeps what was typed and says why at the field when the core refuses the value', async () => {
    const store = draftStore(draftView(templates.reimbursement, { form: oneLine }));
    store.refuse('lines[0].amount', 'Must be at least 0.01');
    renderEditor(templates.reimbursement, draftView(templates.reimbursement, { form: oneLine }));
    const amount = screen.getByRole('textbox', { name: 'Amount, line 1' });
    type(amount, '-5');
    await pause(400);

    expect(amount).toHaveValue('-5');
    expect(amount).toHaveAttribute('aria-invalid', 'true');
    expect(describedText(amount)).toBe('Must be at least 0.01');
    expect(autosave()).toHaveTextContent('Some changes are not saved');
    expect(store.current().form).toEqual(oneLine);

    // A value the core accepts clears the message.
    type(amount, '5');
    await pause(400);
    expect(amount).not.toHaveAttribute('aria-invalid');
    expect(autosave()).toHaveTextContent('Saved at');
  });

  it('does not lose the last keystrokes when the editor is left before the pause', async () => {
    draftStore(draftView(templates.reimbursement));
    const { unmount } = renderEditor(templates.reimbursement);
    type(screen.getByRole('textbox', { name: 'Purpose' }), 'Taxi');
    unmount();
    await pause(0);
    expect(fakeCommands.draftSet).toHaveBeenCalledExactlyOnceWith('draft-1', 'purpose', '"Taxi"');
  });

  it('saves the title with draftTitle', async () => {
    draftStore(draftView(templates.reimbursement));
    renderEditor(templates.reimbursement);
    type(screen.getByRole('textbox', { name: 'Title' }), 'Shanghai trip');
    await pause(400);
    expect(fakeCommands.draftTitle).toHaveBeenCalledExactlyOnceWith('draft-1', 'Shanghai trip');
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Shanghai trip');
  });

  it('keeps the title as typed while the core keeps it trimmed', async () => {
    draftStore(draftView(templates.reimbursement));
    renderEditor(templates.reimbursement);
    const title = screen.getByRole('textbox', { name: 'Title' });
    type(title, 'Shanghai ');
    await pause(400);
    expect(fakeCommands.draftTitle).toHaveBeenCalledExactlyOnceWith('draft-1', 'Shanghai ');
    expect(title).toHaveValue('Shanghai ');
  });

  it('says why a change could not be saved and sends it again on request', async () => {
    fakeCommands.draftSet.mockResolvedValueOnce(failed(commandError('cache')));
    renderEditor(templates.reimbursement);
    type(screen.getByRole('textbox', { name: 'Purpose' }), 'Trip');
    await pause(400);
    expect(autosave()).toHaveTextContent(
      'Not saved: Countersign cannot use its offline data on this computer',
    );
    expect(screen.getByRole('textbox', { name: 'Purpose' })).toHaveValue('Trip');

    draftStore(draftView(templates.reimbursement));
    fireEvent.click(within(autosave()).getByRole('button', { name: 'Try again' }));
    await pause(0);
    expect(fakeCommands.draftSet).toHaveBeenCalledTimes(2);
    expect(fakeCommands.draftSet).toHaveBeenLastCalledWith('draft-1', 'purpose', '"Trip"');
    expect(autosave()).toHaveTextContent('Saved at');
  });

  it('adds a line with an empty row and removes one by sending the table without it', async () => {
    const two = draftView(templates.reimbursement, {
      form: { lines: [{ description: 'Train' }, { description: 'Taxi' }] },
    });
    const store = draftStore(two);
    renderEditor(templates.reimbursement, two);
    fireEvent.click(screen.getByRole('button', { name: 'Add a line' }));
    await pause(0);
    expect(fakeCommands.draftSet).toHaveBeenLastCalledWith('draft-1', 'lines[2]', '{}');
    expect(screen.getByRole('textbox', { name: 'Description, line 3' })).toBeInTheDocument();

    fireEvent.click(screen.getByRole('button', { name: 'Remove line 1' }));
    await pause(0);
    expect(fakeCommands.draftSet).toHaveBeenLastCalledWith(
      'draft-1',
      'lines',
      '[{"description":"Taxi"},{}]',
    );
    expect(store.current().form).toEqual({ lines: [{ description: 'Taxi' }, {}] });
    expect(screen.getByRole('textbox', { name: 'Description, line 1' })).toHaveValue('Taxi');
  });
});

describe('DraftEditor: messages at their fields', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  const withErrors = (language: 'en' | 'zh-CN') =>
    draftView(templates.reimbursement, {
      form: { purpose: 'x'.repeat(10), lines: [{ amount: { amount: '0.00', currency: 'CNY' } }] },
      errors: [
        {
          path: 'lines[0].amount',
          key: 'below_min',
          message: language === 'en' ? 'Must be at least 0.01' : '不能小于 0.01',
        },
        {
          path: 'purpose',
          key: 'pattern_mismatch',
          message:
            language === 'en' ? 'This value does not have the required format' : '格式不符合要求',
        },
        { path: 'lines[0].date', key: 'required', message: language === 'en' ? 'This field is required' : '此项为必填项' },
      ],
    });

  it('shows each message next to its field and table cell, with aria-invalid and aria-describedby', () => {
    renderEditor(templates.reimbursement, withErrors('en'));
    const amount = screen.getByRole('textbox', { name: 'Amount, line 1' });
    expect(amount).toHaveAttribute('aria-invalid', 'true');
    expect(describedText(amount)).toBe('Must be at least 0.01');
    const purpose = screen.getByRole('textbox', { name: 'Purpose' });
    expect(purpose).toHaveAttribute('aria-invalid', 'true');
    expect(describedText(purpose)).toBe('This value does not have the required format');
    // "Required" waits until the person has been to the field or tries to submit.
    expect(screen.getByLabelText('Date, line 1')).not.toHaveAttribute('aria-invalid');
  });

  it('shows the messages in Chinese when the language changes, asking the core again', async () => {
    fakeCommands.draft.mockResolvedValue(ok(withErrors('zh-CN')));
    renderEditor(templates.reimbursement, withErrors('en'));
    await act(async () => {
      await i18n.changeLanguage('zh-CN');
    });
    expect(fakeCommands.draft).toHaveBeenCalledWith('draft-1');
    const amount = await screen.findByRole('textbox', { name: '金额，第 1 行' });
    expect(describedText(amount)).toBe('不能小于 0.01');
    expect(describedText(screen.getByRole('textbox', { name: '报销事由' }))).toBe('格式不符合要求');
  });

  it('keeps Submit from sending while there are errors, says why, and lists them on a try', async () => {
    renderEditor(templates.reimbursement, withErrors('en'));
    const submit = screen.getByRole('button', { name: 'Submit' });
    expect(submit).toHaveAttribute('aria-disabled', 'true');
    expect(submit).toHaveAccessibleDescription(
      'Correct the marked fields before submitting (problems: 3).',
    );
    const user = userEvent.setup();
    await user.click(submit);
    expect(fakeCommands.submitDraft).not.toHaveBeenCalled();
    const problems = screen.getByTestId('draft-problems');
    expect(problems).toHaveTextContent('Expense lines, line 1: Amount: Must be at least 0.01');
    // Now the required field says so too, and the keyboard is at the first problem.
    expect(screen.getByLabelText('Date, line 1')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByRole('textbox', { name: 'Amount, line 1' })).toHaveFocus();
  });
});

describe('DraftEditor: submitting and deleting', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  const ready = draftView(templates.businessTrip, { title: 'Beijing visit' });
  const queued = {
    id: 'outbox-1',
    request_id: 'request-1',
    action: 'submit',
    state: 'pending' as const,
    created_at: tenFortyTwo,
    attempts: 0,
    last_error: null,
    reason: null,
  };

  it('submits and says "Submitted" when online', async () => {
    draftStore(ready);
    fakeCommands.submitDraft.mockResolvedValue(ok(queued));
    const { onClose } = renderEditor(templates.businessTrip, ready);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Submit' }));
    expect(fakeCommands.submitDraft).toHaveBeenCalledExactlyOnceWith('draft-1');
    expect(onClose).toHaveBeenCalledWith({
      kind: 'submitted',
      title: 'Beijing visit',
      requestId: 'request-1',
    });
  });

  it('says it is queued when the submission waits for the network', async () => {
    draftStore(ready);
    fakeCommands.submitDraft.mockResolvedValue(ok(queued));
    fakeCommands.syncStatus.mockResolvedValue(
      ok({
        online: false,
        last_sync_at: null,
        last_error: {
          code: 'server_unreachable',
          message: 'Cannot reach https://oa.example.cn.',
          url: 'https://oa.example.cn',
          retry_after_secs: null,
        },
        outbox_pending: 1,
        refused: [],
        recovery: null,
      }),
    );
    const { onClose } = renderEditor(templates.businessTrip, ready);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Submit' }));
    expect(onClose).toHaveBeenCalledWith(expect.objectContaining({ kind: 'queued' }));
  });

  it('says it corrects a returned request, offers "Resubmit" and says so once resubmitted', async () => {
    const correction = draftView(templates.businessTrip, {
      title: 'Beijing visit',
      resubmits: '0190d4a0-1000-7000-8000-000000000001',
    });
    draftStore(correction);
    fakeCommands.submitDraft.mockResolvedValue(ok({ ...queued, action: 'resubmit' }));
    const { onClose } = renderEditor(templates.businessTrip, correction);
    expect(screen.getByTestId('draft-resubmits')).toHaveTextContent(
      'Correcting request “Beijing visit” returned to you',
    );
    const submit = screen.getByRole('button', { name: 'Resubmit' });
    expect(submit).toHaveAttribute('id', 'submit-draft');
    await userEvent.setup().click(submit);
    expect(fakeCommands.submitDraft).toHaveBeenCalledExactlyOnceWith('draft-1');
    expect(onClose).toHaveBeenCalledWith({
      kind: 'submitted',
      title: 'Beijing visit',
      requestId: 'request-1',
      resubmitted: true,
    });
  });

  it('says 重新提交 on a correction in Chinese, and nothing of the kind on a new draft', async () => {
    await i18n.changeLanguage('zh-CN');
    const correction = draftView(templates.businessTrip, { title: '北京出差', resubmits: 'request-1' });
    draftStore(correction);
    const { unmount } = renderEditor(templates.businessTrip, correction);
    expect(screen.getByRole('button', { name: '重新提交' })).toBeInTheDocument();
    expect(screen.getByTestId('draft-resubmits')).toHaveTextContent('正在修改退回给您的申请“北京出差”');
    unmount();
    await i18n.changeLanguage('en');
    renderEditor(templates.businessTrip, ready);
    expect(screen.queryByTestId('draft-resubmits')).not.toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Submit' })).toBeInTheDocument();
  });

  it('says in words why a submission was refused', async () => {
    draftStore(ready);
    fakeCommands.submitDraft.mockResolvedValue(failed(commandError('cache')));
    const { onClose } = renderEditor(templates.businessTrip, ready);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Submit' }));
    expect(await screen.findByTestId('submit-error')).toHaveTextContent(
      'The request could not be submitted: Countersign cannot use its offline data',
    );
    expect(onClose).not.toHaveBeenCalled();
  });

  it('deletes the draft only once the person confirms', async () => {
    draftStore(ready);
    fakeCommands.draftDelete.mockResolvedValue(ok(null));
    const { onClose } = renderEditor(templates.businessTrip, ready);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Delete draft' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Delete this draft?' });
    expect(within(dialog).getByRole('button', { name: 'Cancel' })).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(fakeCommands.draftDelete).not.toHaveBeenCalled();

    await user.click(screen.getByRole('button', { name: 'Delete draft' }));
    await user.click(
      within(screen.getByRole('alertdialog')).getByRole('button', { name: 'Delete draft' }),
    );
    expect(fakeCommands.draftDelete).toHaveBeenCalledExactlyOnceWith('draft-1');
    expect(onClose).toHaveBeenCalledWith({ kind: 'deleted', title: 'Beijing visit' });
  });

  it('opens a draft by id from the cache, with its template', async () => {
    fakeCommands.draft.mockResolvedValue(ok(ready));
    fakeCommands.template.mockResolvedValue(ok(templates.businessTrip));
    render(<DraftEditor draftId="draft-1" onClose={vi.fn()} />);
    expect(await screen.findByRole('heading', { name: 'Beijing visit' })).toBeInTheDocument();
    expect(fakeCommands.template).toHaveBeenCalledWith('business_trip', 1);
    expect(screen.getByRole('textbox', { name: 'Destination' })).toBeInTheDocument();
  });

  it('opens a draft whose template is missing with the placeholder, not a blank page', async () => {
    fakeCommands.draft.mockResolvedValue(ok(ready));
    fakeCommands.template.mockResolvedValue(ok(null));
    render(<DraftEditor draftId="draft-1" onClose={vi.fn()} />);
    expect(await screen.findByTestId('form-unavailable')).toHaveTextContent('“business_trip”');
  });
});
