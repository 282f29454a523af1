import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, failed, ok } from '../test/fixtures';
import { coverageView, meetingDetail, meetingId } from '../test/meetings';
import { Meetings } from './Meetings';
import { perMilleText } from './MeetingCoverage';
import { addDays, dayKey, startOfDay } from './meetingFormat';

// Shanghai, so that a day on this computer's calendar starts at 16:00 UTC the day before.
// (Node reads TZ again when it is set; the UI's tsconfig has no Node types, hence the cast.)
const { env, originalZone } = vi.hoisted(() => {
  const env = (globalThis as unknown as { process: { env: { TZ?: string } } })
    .process.env;
  const originalZone = env.TZ;
  env.TZ = 'Asia/Shanghai';
  return { env, originalZone };
});

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

afterAll(() => {
  if (originalZone === undefined) delete env.TZ;
  else env.TZ = originalZone;
});

/** The Meetings screen, moved to the coverage report with its button. */
async function openCoverage() {
  const user = userEvent.setup();
  render(<Meetings changes={0} />);
  await user.click(await screen.findByTestId('meetings-coverage'));
  return user;
}

/** Sets a date input to `day` the way a person would: cleared, then typed. */
async function setDay(user: ReturnType<typeof userEvent.setup>, testId: string, day: string) {
  await user.clear(screen.getByTestId(testId));
  await user.type(screen.getByTestId(testId), day);
}

describe('Invitation coverage', () => {
  beforeEach(() => {
    resetFakeCommands();
    fakeCommands.meetingCoverage.mockResolvedValue(ok(coverageView()));
  });

  it('starts on the last 30 days up to today, asked for in UTC from midnight to midnight', async () => {
    await openCoverage();
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Invitation coverage');
    const today = startOfDay(new Date());
    expect(screen.getByTestId('coverage-from')).toHaveValue(dayKey(addDays(today, -30)));
    expect(screen.getByTestId('coverage-to')).toHaveValue(dayKey(today));
    await waitFor(() => {
      expect(fakeCommands.meetingCoverage).toHaveBeenCalledWith(
        addDays(today, -30).toISOString(),
        addDays(today, 1).toISOString(),
      );
    });
  });

  it('shows the months with the share reached as a percentage', async () => {
    await openCoverage();
    const months = await screen.findByTestId('coverage-months');
    const rows = within(months).getAllByTestId('coverage-month');
    expect(rows).toHaveLength(1);
    const [march] = rows as [HTMLElement];
    const cells = within(march)
      .getAllByRole('cell')
      .map((cell) => cell.textContent);
    expect(march).toHaveTextContent('March 2026');
    // Meetings, invited, reached, reached ‰ as %, opened, answered.
    expect(cells).toEqual(['2', '8', '7', '87.5%', '5', '4']);
  });

  it('shows each meeting with its counts and names who was not reached or has not answered', async () => {
    await openCoverage();
    const rows = await screen.findAllByTestId('coverage-meeting');
    expect(rows).toHaveLength(2);
    const [budget, audit] = rows as [HTMLElement, HTMLElement];
    expect(budget).toHaveAttribute('data-meeting-id', meetingId(1));
    expect(budget).toHaveTextContent('09:00');
    expect(budget).toHaveTextContent('Budget review #1');
    expect(budget).toHaveTextContent('李雷');
    expect(within(budget).getByTestId('coverage-invited')).toHaveTextContent('6');
    expect(within(budget).getByTestId('coverage-reached')).toHaveTextContent('5 (83.3%)');
    expect(within(budget).getByTestId('coverage-reached')).toHaveTextContent('4 before the start');
    expect(within(budget).getByTestId('coverage-opened')).toHaveTextContent('4');
    expect(within(budget).getByTestId('coverage-answered')).toHaveTextContent(
      '2 accepted · 1 tentative · 0 declined',
    );
    expect(within(budget).getByTestId('coverage-materials')).toHaveTextContent('✓');
    expect(within(budget).getByTestId('coverage-materials')).toHaveTextContent('Materials in time');
    const notReached = within(budget).getByTestId('coverage-not-reached');
    expect(within(notReached).getAllByRole('listitem').map((item) => item.textContent)).toEqual(['周杰']);
    const notAnswered = within(budget).getByTestId('coverage-not-answered');
    expect(within(notAnswered).getAllByRole('listitem').map((item) => item.textContent)).toEqual([
      '陈丽',
      '周杰',
    ]);

    expect(audit).toHaveTextContent('王芳');
    expect(within(audit).getByTestId('coverage-reached')).toHaveTextContent('2 (100.0%)');
    expect(within(audit).getByTestId('coverage-materials')).toHaveTextContent('✗');
    expect(within(audit).getByTestId('coverage-materials')).toHaveTextContent('Materials not in time');
    expect(within(audit).queryByTestId('coverage-not-reached')).not.toBeInTheDocument();
    expect(within(audit).queryByTestId('coverage-not-answered')).not.toBeInTheDocument();
    expect(audit).toHaveTextContent('Everyone reached and answered');
    expect(screen.getByTestId('coverage-zone')).toHaveTextContent('Asia/Shanghai');
  });

  it('asks again for the period chosen, from the first day’s midnight to the one after the last', async () => {
    const user = await openCoverage();
    await screen.findAllByTestId('coverage-meeting');
    await setDay(user, 'coverage-from', '2026-03-01');
    await setDay(user, 'coverage-to', '2026-03-31');
    await waitFor(() => {
      expect(fakeCommands.meetingCoverage).toHaveBeenLastCalledWith(
        '2026-02-28T16:00:00.000Z',
        '2026-03-31T16:00:00.000Z',
      );
    });
  });

  it('asks nothing while the period ends before it starts', async () => {
    const user = await openCoverage();
    await screen.findAllByTestId('coverage-meeting');
    const asked = fakeCommands.meetingCoverage.mock.calls.length;
    await setDay(user, 'coverage-to', '2020-01-01');
    expect(screen.getByTestId('coverage-period-invalid')).toHaveTextContent(
      'Choose a start date on or before the end date.',
    );
    expect(fakeCommands.meetingCoverage).toHaveBeenCalledTimes(asked);
    expect(screen.queryByTestId('coverage-meetings')).not.toBeInTheDocument();
  });

  it('shows a refusal in the server’s words, and tries again', async () => {
    fakeCommands.meetingCoverage.mockResolvedValueOnce(
      failed(commandError('refused', { message: 'Only organisers and report readers see coverage.' })),
    );
    const user = await openCoverage();
    expect(await screen.findByTestId('coverage-error')).toHaveTextContent(
      'The report could not be shown: Only organisers and report readers see coverage.',
    );
    await user.click(within(screen.getByTestId('coverage-error')).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByTestId('coverage-meetings')).toBeInTheDocument();
  });

  it('says so when the server cannot be reached', async () => {
    fakeCommands.meetingCoverage.mockResolvedValue(
      failed(commandError('server_unreachable', { url: 'https://oa.example.com' })),
    );
    await openCoverage();
    expect(await screen.findByTestId('coverage-error')).toHaveTextContent(
      'The report could not be shown: Cannot reach https://oa.example.com.',
    );
  });

  it('says so when no meeting starts in the period', async () => {
    fakeCommands.meetingCoverage.mockResolvedValue(ok(coverageView({ meetings: [], months: [] })));
    await openCoverage();
    expect(await screen.findByTestId('coverage-empty')).toHaveTextContent('No meetings in this period');
    expect(screen.queryByTestId('coverage-meetings')).not.toBeInTheDocument();
  });

  it('opens a meeting from its title, and comes back to the report with its period', async () => {
    fakeCommands.meetingDetail.mockResolvedValue(ok(meetingDetail()));
    const user = await openCoverage();
    await screen.findAllByTestId('coverage-meeting');
    await setDay(user, 'coverage-from', '2026-03-01');
    await setDay(user, 'coverage-to', '2026-03-31');
    const [budget] = (await screen.findAllByTestId('coverage-meeting')) as [HTMLElement];
    await user.click(within(budget).getByRole('button', { name: 'Budget review #1' }));
    expect(await screen.findByTestId('meeting-title')).toHaveTextContent('Budget review #1');
    expect(fakeCommands.meetingDetail).toHaveBeenCalledWith(meetingId(1));

    await user.click(screen.getByTestId('meeting-back'));
    expect(await screen.findByTestId('coverage')).toBeInTheDocument();
    expect(screen.getByTestId('coverage-from')).toHaveValue('2026-03-01');
    expect(screen.getByTestId('coverage-to')).toHaveValue('2026-03-31');

    await user.click(screen.getByTestId('coverage-back'));
    expect(await screen.findByTestId('meetings')).toBeInTheDocument();
  });

  it('speaks Chinese', async () => {
    const { i18n } = await import('../i18n');
    await i18n.changeLanguage('zh-CN');
    await openCoverage();
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('邀请送达情况');
    const [budget] = await screen.findAllByTestId('coverage-meeting');
    expect(budget).toHaveTextContent('未送达：');
    expect(budget).toHaveTextContent('未回复：');
    expect(screen.getByRole('columnheader', { name: '按时提供材料' })).toBeInTheDocument();
  });

  it('writes per mille as a percentage with one decimal', () => {
    expect(perMilleText(875, 'en')).toBe('87.5%');
    expect(perMilleText(1000, 'en')).toBe('100.0%');
    expect(perMilleText(0, 'zh-CN')).toBe('0.0%');
  });
});
