import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { i18n } from '../i18n';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, deferred, englishPreferences, failed, liLei, ok } from '../test/fixtures';
import { About } from './About';
import { Settings } from './Settings';
import { ReportProblemDialog } from './SettingsReportProblem';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

const thisLaptop = {
  id: 'session-1',
  device_name: 'Li Lei’s laptop',
  created_at: '2026-03-01T01:00:00Z',
  last_seen_at: '2026-03-02T02:00:00Z',
  source: '10.0.0.8',
  current: true,
};
const officePc = {
  id: 'session-2',
  device_name: 'Office PC',
  created_at: '2026-01-05T01:00:00Z',
  last_seen_at: '2026-02-20T09:30:00Z',
  source: '10.0.3.21',
  current: false,
};

function renderSettings() {
  const onPreferencesChange = vi.fn();
  const onOpenAbout = vi.fn();
  const onReportProblem = vi.fn();
  render(
    <Settings
      me={liLei}
      server="https://oa.example.com"
      preferences={englishPreferences}
      signingOut={false}
      onLanguageChange={vi.fn()}
      onSignOut={vi.fn()}
      onPreferencesChange={onPreferencesChange}
      onOpenAbout={onOpenAbout}
      onReportProblem={onReportProblem}
    />,
  );
  return { user: userEvent.setup(), onPreferencesChange, onOpenAbout, onReportProblem };
}

describe('Settings', () => {
  beforeEach(() => {
    resetFakeCommands();
    fakeCommands.sessions.mockResolvedValue(ok([officePc, thisLaptop]));
  });

  it('shows the server address the account is on', () => {
    renderSettings();
    expect(screen.getByText('https://oa.example.com')).toBeInTheDocument();
  });

  it('turns notifications off through the core and hands the new preferences up', async () => {
    const after = { ...englishPreferences, notifications: false };
    fakeCommands.setNotifications.mockResolvedValue(ok(after));
    const { user, onPreferencesChange } = renderSettings();
    const toggle = screen.getByRole('switch', { name: 'Show desktop notifications' });
    expect(toggle).toBeChecked();
    await user.click(toggle);
    expect(fakeCommands.setNotifications).toHaveBeenCalledExactlyOnceWith(false);
    expect(toggle).not.toBeChecked();
    expect(onPreferencesChange).toHaveBeenCalledWith(after);
  });

  it('puts a switch back and says why when the change cannot be kept', async () => {
    fakeCommands.setNotifications.mockResolvedValue(failed(commandError('settings')));
    const { user } = renderSettings();
    const toggle = screen.getByRole('switch', { name: 'Show desktop notifications' });
    await user.click(toggle);
    expect(toggle).toBeChecked();
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The change could not be saved: Countersign could not read or save its settings.',
    );
  });

  it('pauses notifications and starts with the computer through the app settings', async () => {
    fakeCommands.setNotificationsPaused.mockResolvedValue(
      ok({ start_at_login: false, notifications_paused: true }),
    );
    fakeCommands.setStartAtLogin.mockResolvedValue(
      ok({ start_at_login: true, notifications_paused: true }),
    );
    const { user } = renderSettings();
    const pause = screen.getByRole('switch', { name: 'Pause notifications' });
    const start = screen.getByRole('switch', {
      name: 'Start Countersign when I sign in to this computer',
    });
    await vi.waitFor(() => {
      expect(pause).not.toHaveAttribute('aria-disabled', 'true');
    });
    await user.click(pause);
    expect(fakeCommands.setNotificationsPaused).toHaveBeenCalledExactlyOnceWith(true);
    expect(pause).toBeChecked();
    await user.click(start);
    expect(fakeCommands.setStartAtLogin).toHaveBeenCalledExactlyOnceWith(true);
    expect(start).toBeChecked();
  });

  it('lists the devices signed in, this one first and marked', async () => {
    renderSettings();
    const rows = within(await screen.findByTestId('sessions')).getAllByRole('listitem');
    expect(rows[0]).toHaveTextContent('Li Lei’s laptop');
    expect(rows[0]).toHaveTextContent('This device');
    expect(within(screen.getByTestId('session-session-1')).queryByRole('button')).toBeNull();
    expect(rows[1]).toHaveTextContent('Office PC');
    expect(rows[1]).toHaveTextContent('10.0.3.21');
  });

  it('signs another device out only after confirming, and takes it off the list', async () => {
    fakeCommands.revokeSession.mockResolvedValue(ok(null));
    const { user } = renderSettings();
    await user.click(await screen.findByRole('button', { name: 'Sign out Office PC' }));
    const dialog = screen.getByRole('alertdialog', { name: 'Sign out “Office PC”?' });
    expect(fakeCommands.revokeSession).not.toHaveBeenCalled();
    await user.click(within(dialog).getByRole('button', { name: 'Sign out device' }));

    expect(fakeCommands.revokeSession).toHaveBeenCalledExactlyOnceWith('session-2');
    expect(screen.queryByRole('alertdialog')).toBeNull();
    expect(screen.getByTestId('session-revoked')).toHaveTextContent('“Office PC” is signed out.');
    expect(screen.queryByTestId('session-session-2')).toBeNull();
  });

  it('says in words why a device could not be signed out, and keeps it listed', async () => {
    fakeCommands.revokeSession.mockResolvedValue(
      failed(commandError('server_unreachable', { url: 'https://oa.example.com' })),
    );
    const { user } = renderSettings();
    await user.click(await screen.findByRole('button', { name: 'Sign out Office PC' }));
    await user.click(screen.getByRole('button', { name: 'Sign out device' }));
    expect(within(screen.getByRole('alertdialog')).getByRole('alert')).toHaveTextContent(
      'Cannot reach https://oa.example.com. Check the address and your network.',
    );
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.getByTestId('session-session-2')).toBeInTheDocument();
  });

  it('says the devices cannot be listed while offline, and tries again on request', async () => {
    fakeCommands.sessions.mockResolvedValueOnce(
      failed(commandError('server_unreachable', { url: 'https://oa.example.com' })),
    );
    const { user } = renderSettings();
    const problem = await screen.findByTestId('sessions-error');
    expect(problem).toHaveTextContent(
      'The list of devices could not be loaded: Cannot reach https://oa.example.com.',
    );
    await user.click(within(problem).getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('Office PC')).toBeInTheDocument();
  });

  it('leads to About and to reporting a problem', async () => {
    const { user, onOpenAbout, onReportProblem } = renderSettings();
    await user.click(screen.getByRole('button', { name: 'About Countersign' }));
    await user.click(screen.getByRole('button', { name: 'Report a problem' }));
    expect(onOpenAbout).toHaveBeenCalledOnce();
    expect(onReportProblem).toHaveBeenCalledOnce();
  });
});

describe('Report a problem', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('writes the report and shows where, with a button that copies the path', async () => {
    const path = '/home/li/.local/share/countersign/reports/problem-2026-03-02.txt';
    fakeCommands.reportProblem.mockResolvedValue(ok({ path, log_bytes: 48_213 }));
    const user = userEvent.setup();
    const writeText = vi.spyOn(navigator.clipboard, 'writeText').mockResolvedValue(undefined);
    render(<ReportProblemDialog onClose={vi.fn()} />);

    expect(screen.getByRole('textbox', { name: 'What happened?' })).toHaveFocus();
    await user.keyboard('The total stayed at 0');
    await user.click(screen.getByRole('button', { name: 'Create report' }));
    expect(fakeCommands.reportProblem).toHaveBeenCalledExactlyOnceWith('The total stayed at 0');

    expect(screen.getByTestId('report-path')).toHaveValue(path);
    await user.click(screen.getByRole('button', { name: 'Copy path' }));
    expect(writeText).toHaveBeenCalledWith(path);
    expect(screen.getByRole('button', { name: 'Copied' })).toBeInTheDocument();
  });

  it('says in words why the report could not be written', async () => {
    fakeCommands.reportProblem.mockResolvedValue(failed(commandError('settings')));
    const user = userEvent.setup();
    render(<ReportProblemDialog onClose={vi.fn()} />);
    await user.keyboard('It crashed');
    await user.click(screen.getByRole('button', { name: 'Create report' }));
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The report could not be written: Countersign could not read or save its settings.',
    );
  });

  it('closes with Escape', async () => {
    const onClose = vi.fn();
    const user = userEvent.setup();
    render(<ReportProblemDialog onClose={onClose} />);
    await user.keyboard('{Escape}');
    expect(onClose).toHaveBeenCalledOnce();
  });
});

describe('About', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  const about = {
    version: '0.1.0',
    commit: 'cb35a34',
    tauri_version: '2.9.1',
    os: 'Linux 6.8 (x86_64)',
    profile_dir: '/home/li/.local/share/countersign',
    log_dir: '/home/li/.local/state/countersign/logs',
    remembers_sign_in: true,
  };

  it('shows the version, build, Tauri, OS, folders and whether sign-ins are remembered', async () => {
    fakeCommands.about.mockResolvedValue(ok(about));
    render(<About onBack={vi.fn()} />);
    expect(await screen.findByTestId('about-version')).toHaveTextContent('0.1.0');
    expect(screen.getByTestId('about-commit')).toHaveTextContent('cb35a34');
    expect(screen.getByTestId('about-tauri')).toHaveTextContent('2.9.1');
    expect(screen.getByTestId('about-os')).toHaveTextContent('Linux 6.8');
    expect(screen.getByTestId('about-profile')).toHaveTextContent('/home/li/.local/share/countersign');
    expect(screen.getByTestId('about-logs')).toHaveTextContent('logs');
    expect(screen.getByTestId('about-keyring')).toHaveTextContent(
      "Remembered in this computer's secure credential store",
    );
    expect(screen.queryByTestId('about-keyring-warning')).toBeNull();
  });

  it('warns, in Chinese too, when the sign-in lasts for this session only', async () => {
    await i18n.changeLanguage('zh-CN');
    const answer = deferred<Awaited<ReturnType<typeof fakeCommands.about>>>();
    fakeCommands.about.mockReturnValue(answer.promise);
    render(<About onBack={vi.fn()} />);
    answer.resolve(ok({ ...about, remembers_sign_in: false, commit: null }));
    expect(await screen.findByTestId('about-keyring')).toHaveTextContent('仅限本次会话');
    expect(screen.getByTestId('about-commit')).toHaveTextContent('未知');
    expect(screen.getByTestId('about-keyring-warning')).toHaveTextContent('下次启动');
  });
});
