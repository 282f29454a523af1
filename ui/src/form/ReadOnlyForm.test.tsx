import { render, screen, within } from '@testing-library/react';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { i18n } from '../i18n';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { ok } from '../test/fixtures';
import { templates } from '../test/templates';
import type { TemplateInfo } from '../api';
import { ReadOnlyForm } from './ReadOnlyForm';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

/** The `<dd>` that shows a field's value, found by the field's label. */
function valueOf(label: string): HTMLElement {
  const term = screen.getByText(label, { selector: 'dt' });
  const value = term.nextElementSibling;
  if (!(value instanceof HTMLElement)) throw new Error(`no value for ${label}`);
  return value;
}

const claim = {
  purpose: 'Client visit, Shanghai',
  lines: [
    {
      date: '2026-03-02',
      category: 'travel',
      description: 'Train G7',
      amount: { amount: '553.00', currency: 'CNY' },
      invoice: [
        {
          id: '0190d4a0-0000-7000-8000-0000000000f1',
          name: 'ticket.pdf',
          size: 48_213,
          content_type: 'application/pdf',
        },
      ],
    },
    {
      date: '2026-03-03',
      category: 'meals',
      description: 'Lunch with client',
      amount: { amount: '1280.5', currency: 'CNY' },
    },
  ],
};

describe('ReadOnlyForm', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('shows every field, the table of lines and the total the core computed', () => {
    render(
      <ReadOnlyForm
        template={templates.reimbursement}
        form={claim}
        computed={{ total: { kind: 'money', value: { amount: '1833.50', currency: 'CNY' } } }}
      />,
    );
    expect(valueOf('Purpose')).toHaveTextContent('Client visit, Shanghai');
    expect(valueOf('Notes')).toHaveTextContent('Not filled in');
    // The UI shows the core's figure, grouped, never a sum of its own.
    expect(valueOf('Total')).toHaveTextContent('CNY 1,833.50');

    const table = screen.getByRole('table', { name: 'Expense lines' });
    const rows = within(table).getAllByRole('row');
    expect(rows).toHaveLength(3);
    expect(rows[1]).toHaveTextContent('Travel');
    expect(rows[1]).toHaveTextContent('CNY 553.00');
    expect(rows[1]).toHaveTextContent('ticket.pdf');
    expect(rows[2]).toHaveTextContent('CNY 1,280.5');
  });

  it('shows labels, choices and leave days in Chinese when the UI is in Chinese', async () => {
    await i18n.changeLanguage('zh-CN');
    render(
      <ReadOnlyForm
        template={templates.leave}
        form={{
          leave_type: 'sick',
          period: { start: '2026-03-02', end: '2026-03-04', start_half: 'pm', end_half: 'pm' },
          reason: '发烧\n需要休息',
        }}
        computed={{ days: { kind: 'number', value: '2.5' } }}
      />,
    );
    expect(valueOf('请假类型')).toHaveTextContent('病假');
    expect(valueOf('请假时间')).toHaveTextContent('2026-03-02 下午 – 2026-03-04');
    expect(valueOf('请假天数')).toHaveTextContent('2.5 个工作日');
  });

  it('says the form cannot be shown when this computer does not have the template', () => {
    render(<ReadOnlyForm template={null} form={{}} computed={{}} templateId="holiday" />);
    expect(screen.getByTestId('form-unavailable')).toHaveTextContent(
      'This form cannot be shown in this version of Countersign',
    );
  });

  it('says the form cannot be shown, naming the template, when a field kind is unknown', () => {
    const newer = {
      ...templates.leave,
      id: 'signed_leave',
      form: {
        fields: [
          ...templates.leave.form.fields,
          { key: 'signature', label: { 'zh-CN': '签名', en: 'Signature' }, type: { kind: 'ink' } },
        ],
      },
    } as unknown as TemplateInfo;
    render(<ReadOnlyForm template={newer} form={{}} computed={{}} />);
    const placeholder = screen.getByTestId('form-unavailable');
    expect(placeholder).toHaveTextContent('“signed_leave”');
    expect(screen.queryByText('Leave type')).not.toBeInTheDocument();
  });

  it('shows the placeholder instead of crashing when drawing the form throws', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const broken = {
      ...templates.purchase,
      form: {
        fields: [
          {
            key: 'title',
            label: { 'zh-CN': '标题', en: 'Title' },
            type: { kind: 'single_select', options: [] },
          },
        ],
      },
    } as unknown as TemplateInfo;
    // A getter that throws stands for any renderer bug on an unexpected form.
    Object.defineProperty(broken.form.fields[0], 'label', {
      get() {
        throw new Error('boom');
      },
    });
    render(<ReadOnlyForm template={broken} form={{ title: 'x' }} computed={{}} />);
    expect(screen.getByTestId('form-unavailable')).toHaveTextContent('“purchase”');
  });

  it('says of each sent file whether it opens without a connection', async () => {
    const scan = '0190d4a0-0000-7000-8000-0000000000f2';
    const certificate = '0190d4a0-0000-7000-8000-0000000000f3';
    fakeCommands.attachmentStates.mockImplementation((ids) =>
      Promise.resolve(ok(ids.map((id) => ({ id, on_this_device: id === scan, uploaded: true })))),
    );
    render(
      <ReadOnlyForm
        template={templates.leave}
        form={{
          leave_type: 'sick',
          certificate: [
            { id: scan, name: 'scan.png', size: 2048, content_type: 'image/png' },
            { id: certificate, name: 'certificate.pdf', size: 4096, content_type: 'application/pdf' },
          ],
        }}
        computed={{}}
      />,
    );
    const [first, second] = within(valueOf('Certificate')).getAllByRole('listitem');
    if (first === undefined || second === undefined) throw new Error('two files listed');
    // Every file of a sent request is on the server: "Uploaded" would tell the reader nothing.
    expect(await within(first).findByText('On this computer')).toBeInTheDocument();
    expect(within(second).getByText('Not downloaded yet')).toBeInTheDocument();
    expect(fakeCommands.attachmentStates).toHaveBeenCalledWith([scan, certificate]);
  });
});
