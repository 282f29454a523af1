import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { App } from './App';
import type { Preferences, SessionView } from './api';
import { fakeCommands, resetFakeCommands } from './test/fakeCommands';
import { inboxEntry, inboxTemplates, sizeVirtualLists, syncStatus } from './test/requests';
import {
  commandError,
  deferred,
  englishPreferences,
  failed,
  liLei,
  ok,
  signedIn,
  signedOut,
} from './test/fixtures';

vi.mock('./bindings', async () => ({
  commands: (await import('./test/fakeCommands')).fakeCommands,
}));

function start({
  preferences = englishPreferences,
  session = signedIn(),
}: { preferences?: Preferences; session?: SessionView } = {}) {
  fakeCommands.getPreferences.mockResolvedValue(ok(preferences));
  fakeCommands.restoreSession.mockResolvedValue(ok(session));
  const user = userEvent.setup();
  render(<App />);
  return user;
}

describe('start-up', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('shows the splash, not a blank window, until the session is restored', async () => {
    const restored = deferred<Awaited<ReturnType<typeof fakeCommands.restoreSession>>>();
    fakeCommands.getPreferences.mockResolvedValue(ok(englishPreferences));
    fakeCommands.restoreSession.mockReturnValue(restored.promise);
    render(<App />);

    expect(screen.getByTestId('splash')).toHaveTextContent('Countersign');
    await vi.waitFor(() => {
      expect(fakeCommands.restoreSession).toHaveBeenCalled();
    });
    expect(screen.getByTestId('splash')).toBeInTheDocument();

    restored.resolve(ok(signedIn()));
    expect(await screen.findByTestId('shell')).toBeInTheDocument();
    expect(screen.queryByTestId('splash')).not.toBeInTheDocument();
  });

  it('loads the language before the session, so the first screen is already in it', async () => {
    start({
      preferences: { ...englishPreferences, language: 'zh-CN', resolved_language: 'zh-CN' },
      session: signedOut(),
    });
    expect(await screen.findByRole('button', { name: '登录' })).toBeInTheDocument();
    expect(document.documentElement).toHaveAttribute('lang', 'zh-CN');
    const preferencesAsked = fakeCommands.getPreferences.mock.invocationCallOrder[0] ?? Infinity;
    const sessionAsked = fakeCommands.restoreSession.mock.invocationCallOrder[0] ?? -Infinity;
    expect(preferencesAsked).toBeLessThan(sessionAsked);
  });

  it('asks for the session without waiting for the preferences, and shows neither first', async () => {
    const loaded = deferred<Awaited<ReturnType<typeof fakeCommands.getPreferences>>>();
    fakeCommands.getPreferences.mockReturnValue(loaded.promise);
    fakeCommands.restoreSession.mockResolvedValue(ok(signedOut()));
    render(<App />);

    await vi.waitFor(() => {
      expect(fakeCommands.restoreSession).toHaveBeenCalled();
    });
    // The session is known, but the language is not: the splash stays.
    expect(screen.getByTestId('splash')).toBeInTheDocument();
    loaded.resolve(ok({ ...englishPreferences, language: 'zh-CN', resolved_language: 'zh-CN' }));
    expect(await screen.findByRole('button', { name: '登录' })).toBeInTheDocument();
  });

  it("asks for the inbox's first page once, before the shell is drawn, and shows its answer", async () => {
    const page = deferred<Awaited<ReturnType<typeof fakeCommands.inbox>>>();
    fakeCommands.inbox.mockReturnValue(page.promise);
    const restored = deferred<Awaited<ReturnType<typeof fakeCommands.restoreSession>>>();
    fakeCommands.getPreferences.mockResolvedValue(ok(englishPreferences));
    fakeCommands.restoreSession.mockReturnValue(restored.promise);
    let shellDrawnAtAsking: boolean | null = null;
    fakeCommands.inbox.mockImplementationOnce(() => {
      shellDrawnAtAsking = screen.queryByTestId('shell') !== null;
      return page.promise;
    });
    onTestFinished(sizeVirtualLists());
    render(<App />);
    restored.resolve(ok(signedIn()));

    const shell = await screen.findByTestId('shell');
    expect(shellDrawnAtAsking).toBe(false);
    page.resolve(
      ok({ items: [inboxEntry(0)], total: 1, offset: 0, templates: inboxTemplates }),
    );
    expect(await within(shell).findByText('Trip to Shanghai #0')).toBeInTheDocument();
    // The inbox, once drawn, took that answer instead of asking again.
    expect(fakeCommands.inbox).toHaveBeenCalledTimes(1);
    expect(fakeCommands.inbox).toHaveBeenCalledWith(
      expect.objectContaining({ search: null, template_id: null, sla: null, offset: 0 }),
    );
  });

  it('opens the shell with the restored person, department and offline state', async () => {
    fakeCommands.syncStatus.mockResolvedValue({
      status: 'ok',
      data: syncStatus({ online: false }),
    });
    start({ session: signedIn({ offline: true }) });
    const shell = await screen.findByTestId('shell');
    expect(within(shell).getByTestId('display-name')).toHaveTextContent('李雷');
    expect(within(shell).getByTestId('department')).toHaveTextContent('财务部');
    expect(within(shell).getByTestId('offline-badge')).toHaveTextContent('Offline');
    // The inbox answers from the cache after the shell is drawn.
    expect(await within(shell).findByTestId('inbox-empty')).toHaveTextContent(
      'No approvals waiting for you',
    );
  });

  it('drops the offline badge once a sync reaches the server, though the app started offline', async () => {
    start({ session: signedIn({ offline: true }) });
    await screen.findByTestId('shell');
    await waitFor(() => {
      expect(screen.queryByTestId('offline-badge')).not.toBeInTheDocument();
    });
    expect(fakeCommands.syncStatus).toHaveBeenCalled();
  });

  it('shows no offline badge when online and no department for a person without one', async () => {
    start({ session: signedIn({ me: { ...liLei, department: null } }) });
    await screen.findByTestId('shell');
    expect(screen.queryByTestId('offline-badge')).not.toBeInTheDocument();
    expect(screen.queryByTestId('department')).not.toBeInTheDocument();
  });

  it('explains why the user was signed out and prefills the sign-in', async () => {
    start({
      session: signedOut({
        reason: commandError('session_revoked'),
        server: 'https://oa.example.com',
        username: 'li.lei',
      }),
    });
    expect(await screen.findByTestId('signed-out-reason')).toHaveTextContent(
      'You were signed out because this session was revoked.',
    );
    expect(screen.getByLabelText('Server address')).toHaveValue('https://oa.example.com');
    expect(screen.getByLabelText('User name')).toHaveValue('li.lei');
  });

  it('falls back to signing in, with the reason, when the session cannot be restored', async () => {
    fakeCommands.getPreferences.mockResolvedValue(ok(englishPreferences));
    fakeCommands.restoreSession.mockResolvedValue(failed(commandError('keyring_unavailable')));
    render(<App />);
    expect(await screen.findByTestId('signed-out-reason')).toHaveTextContent(
      "Countersign cannot use your computer's secure credential store",
    );
    expect(screen.getByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });

  it('still starts when the preferences cannot be read', async () => {
    fakeCommands.getPreferences.mockRejectedValue(new Error('settings file unreadable'));
    fakeCommands.restoreSession.mockResolvedValue(ok(signedOut()));
    render(<App />);
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });
});

describe('signing in and out', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('goes from sign-in to the shell', async () => {
    const user = start({ session: signedOut() });
    fakeCommands.signIn.mockResolvedValue(ok(signedIn()));
    await user.type(await screen.findByLabelText('Server address'), 'https://oa.example.com');
    await user.type(screen.getByLabelText('User name'), 'li.lei');
    await user.type(screen.getByLabelText('Password'), 'correct horse{Enter}');

    expect(await screen.findByTestId('shell')).toBeInTheDocument();
    expect(screen.getByTestId('display-name')).toHaveTextContent('李雷');
    expect(fakeCommands.signIn).toHaveBeenCalledWith(
      'https://oa.example.com',
      'li.lei',
      'correct horse',
    );
  });

  it('signs out from Settings back to a prefilled sign-in', async () => {
    const user = start();
    fakeCommands.signOut.mockResolvedValue(
      ok(signedOut({ server: 'https://oa.example.com', username: 'li.lei' })),
    );
    await user.click(await screen.findByTestId('nav-settings'));
    await user.click(screen.getByRole('button', { name: 'Sign out' }));

    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(screen.queryByTestId('shell')).not.toBeInTheDocument();
    expect(screen.getByLabelText('User name')).toHaveValue('li.lei');
    expect(screen.getByLabelText('Password')).toHaveValue('');
    expect(screen.queryByTestId('signed-out-reason')).not.toBeInTheDocument();
    expect(fakeCommands.signOut).toHaveBeenCalledTimes(1);
  });

  it('stays signed in and says so when signing out fails', async () => {
    const user = start();
    fakeCommands.signOut.mockResolvedValue(failed(commandError('keyring_unavailable')));
    await user.click(await screen.findByTestId('nav-settings'));
    await user.click(document.querySelector('#sign-out') ?? document.body);

    expect(await screen.findByRole('alert')).toHaveTextContent(
      "Could not sign out: Countersign cannot use your computer's secure credential store",
    );
    expect(screen.getByTestId('shell')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Sign out' })).not.toHaveAttribute(
      'aria-disabled',
      'true',
    );
  });
});

describe('language', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('switches in Settings at once, keeps it through the core, and follows in <html lang>', async () => {
    const user = start();
    const saved = deferred<Awaited<ReturnType<typeof fakeCommands.setLanguage>>>();
    fakeCommands.setLanguage.mockReturnValue(saved.promise);
    await user.click(await screen.findByTestId('nav-settings'));
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Settings');

    await user.selectOptions(screen.getByLabelText('Display language'), 'zh-CN');
    // Applied before the core has answered.
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('设置');
    expect(screen.getByTestId('nav-inbox')).toHaveTextContent('待办');
    expect(document.documentElement).toHaveAttribute('lang', 'zh-CN');
    expect(fakeCommands.setLanguage).toHaveBeenCalledWith('zh-CN');

    saved.resolve(ok({ ...englishPreferences, language: 'zh-CN', resolved_language: 'zh-CN' }));
    expect(await screen.findByRole('button', { name: '退出登录' })).toBeInTheDocument();
    expect(screen.getByLabelText('界面语言')).toHaveValue('zh-CN');
  });

  it('uses the language the core resolves for "follow system"', async () => {
    const user = start({
      preferences: { ...englishPreferences, language: 'en', resolved_language: 'en' },
    });
    fakeCommands.setLanguage.mockResolvedValue(
      ok({ ...englishPreferences, language: 'system', resolved_language: 'zh-CN' }),
    );
    await user.click(await screen.findByTestId('nav-settings'));
    await user.selectOptions(screen.getByLabelText('Display language'), 'system');

    expect(await screen.findByRole('heading', { level: 1, name: '设置' })).toBeInTheDocument();
    expect(document.documentElement).toHaveAttribute('lang', 'zh-CN');
    expect(screen.getByLabelText('界面语言')).toHaveValue('system');
  });

  it('keeps the new language for now but says it could not be saved', async () => {
    const user = start();
    fakeCommands.setLanguage.mockResolvedValue(failed(commandError('settings')));
    await user.click(await screen.findByTestId('nav-settings'));
    await user.selectOptions(screen.getByLabelText('Display language'), 'zh-CN');

    expect(await screen.findByRole('alert')).toHaveTextContent(
      '语言设置未能保存：会签无法读取或保存设置。',
    );
    expect(document.documentElement).toHaveAttribute('lang', 'zh-CN');
  });

  it('can be switched on the sign-in screen', async () => {
    const user = start({ session: signedOut() });
    fakeCommands.setLanguage.mockResolvedValue(
      ok({ ...englishPreferences, language: 'zh-CN', resolved_language: 'zh-CN' }),
    );
    await user.selectOptions(await screen.findByLabelText('Language'), 'zh-CN');
    expect(await screen.findByLabelText('服务器地址')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: '登录' })).toBeInTheDocument();
    expect(document.documentElement).toHaveAttribute('lang', 'zh-CN');
    expect(fakeCommands.setLanguage).toHaveBeenCalledWith('zh-CN');
  });
});
