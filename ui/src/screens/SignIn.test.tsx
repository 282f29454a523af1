import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { CommandError, CommandErrorCode } from '../api';
import { i18n } from '../i18n';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { commandError, deferred, failed, ok, signedIn, signedOut } from '../test/fixtures';
import { SignIn } from './SignIn';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

function renderSignIn(props: Partial<Parameters<typeof SignIn>[0]> = {}) {
  const onSignedIn = vi.fn();
  const onLanguageChange = vi.fn();
  const user = userEvent.setup();
  render(
    <SignIn
      server={null}
      username={null}
      reason={null}
      language="system"
      onLanguageChange={onLanguageChange}
      onSignedIn={onSignedIn}
      {...props}
    />,
  );
  return { user, onSignedIn, onLanguageChange };
}

const field = {
  server: () => document.querySelector<HTMLInputElement>('#server'),
  username: () => document.querySelector<HTMLInputElement>('#username'),
  password: () => document.querySelector<HTMLInputElement>('#password'),
  submit: () => document.querySelector<HTMLButtonElement>('#sign-in'),
};

function errorText() {
  return screen.queryByTestId('sign-in-error')?.textContent ?? null;
}

async function fillAndSubmit(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText('Server address'), '  https://oa.example.com ');
  await user.type(screen.getByLabelText('User name'), ' li.lei ');
  await user.type(screen.getByLabelText('Password'), ' s3cret ');
  await user.keyboard('{Enter}');
}

describe('SignIn', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('has the fields and button the end-to-end tests look for', () => {
    renderSignIn();
    expect(field.server()).toBe(screen.getByLabelText('Server address'));
    expect(field.username()).toBe(screen.getByLabelText('User name'));
    expect(field.password()).toBe(screen.getByLabelText('Password'));
    expect(field.submit()).toBe(screen.getByRole('button', { name: 'Sign in' }));
    expect(field.password()).toHaveAttribute('type', 'password');
  });

  it('submits with Enter: server and user name trimmed, the password exactly as typed', async () => {
    const session = signedIn();
    fakeCommands.signIn.mockResolvedValue(ok(session));
    const { user, onSignedIn } = renderSignIn();
    await fillAndSubmit(user);
    expect(fakeCommands.signIn).toHaveBeenCalledExactlyOnceWith(
      'https://oa.example.com',
      'li.lei',
      ' s3cret ',
    );
    expect(onSignedIn).toHaveBeenCalledWith(session);
  });

  it('shows that it is busy while signing in and does not send a second attempt', async () => {
    const answer = deferred<Awaited<ReturnType<typeof fakeCommands.signIn>>>();
    fakeCommands.signIn.mockReturnValue(answer.promise);
    const { user, onSignedIn } = renderSignIn();
    await fillAndSubmit(user);

    expect(screen.getByRole('button', { name: 'Signing in…' })).toHaveAttribute(
      'aria-disabled',
      'true',
    );
    await user.keyboard('{Enter}');
    await user.click(screen.getByRole('button', { name: 'Signing in…' }));
    expect(fakeCommands.signIn).toHaveBeenCalledTimes(1);

    answer.resolve(failed(commandError('invalid_credentials')));
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it('says which field is missing instead of calling the core', async () => {
    const { user } = renderSignIn({ server: 'https://oa.example.com' });
    await user.type(screen.getByLabelText('User name'), 'li.lei');
    await user.click(screen.getByRole('button', { name: 'Sign in' }));
    expect(screen.getByRole('alert')).toHaveTextContent('Enter your password.');
    expect(field.password()).toHaveFocus();
    expect(field.password()).toHaveAttribute('aria-invalid', 'true');
    expect(fakeCommands.signIn).not.toHaveBeenCalled();
  });

  const explained: [CommandErrorCode, Partial<CommandError>, string][] = [
    [
      'invalid_server_url',
      { url: 'oa example' },
      '“oa example” is not a valid server address. Use a form like https://oa.example.com.',
    ],
    [
      'server_unreachable',
      { url: 'https://oa.example.com' },
      'Cannot reach https://oa.example.com. Check the address and your network.',
    ],
    [
      'server_untrusted',
      { url: 'https://oa.example.com' },
      "The certificate of https://oa.example.com is not trusted on this computer (an unknown issuer, expired, or made for another address). Check the address; if it is right, ask IT support to install your organisation's certificate.",
    ],
    [
      'not_countersign',
      { url: 'https://www.example.com' },
      'https://www.example.com is not a Countersign server.',
    ],
    ['invalid_credentials', {}, 'Wrong user name or password.'],
    [
      'login_throttled',
      { retry_after_secs: 90 },
      'Too many failed sign-ins. Try again in 90 s.',
    ],
    [
      'account_disabled',
      {},
      'Your account has been disabled. Contact your administrator.',
    ],
    ['session_expired', {}, 'Your session has expired. Please sign in again.'],
    ['session_revoked', {}, 'You were signed out because this session was revoked.'],
    [
      'server_error',
      {},
      'The server ran into a problem. Try again in a moment; if it keeps happening, contact IT support.',
    ],
    ['settings', {}, 'Countersign could not read or save its settings.'],
    [
      'internal',
      {},
      'Something went wrong inside Countersign. Try again; if it keeps happening, contact IT support.',
    ],
  ];

  it.each(explained)('explains %s in words, not the core message', async (code, extra, text) => {
    fakeCommands.signIn.mockResolvedValue(failed(commandError(code, extra)));
    const { user, onSignedIn } = renderSignIn();
    await fillAndSubmit(user);
    expect(await screen.findByRole('alert')).toBe(screen.getByTestId('sign-in-error'));
    expect(errorText()).toBe(text);
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it('explains a keyring it cannot use and offers to sign in for this session only', async () => {
    fakeCommands.signIn.mockResolvedValue(failed(commandError('keyring_unavailable')));
    const session = signedIn();
    fakeCommands.signInForThisSession.mockResolvedValue(ok(session));
    const { user, onSignedIn } = renderSignIn();
    await fillAndSubmit(user);

    expect(await screen.findByRole('alert')).toHaveTextContent(
      "This computer's secure credential store (keyring) cannot be used, so Countersign cannot remember your sign-in.",
    );
    // The password is kept: the person should not have to type it again to go on.
    expect(field.password()).toHaveValue(' s3cret ');
    await user.click(screen.getByRole('button', { name: 'Sign in for this session only' }));

    expect(fakeCommands.signInForThisSession).toHaveBeenCalledExactlyOnceWith(
      'https://oa.example.com',
      'li.lei',
      ' s3cret ',
    );
    expect(onSignedIn).toHaveBeenCalledWith(session);
  });

  it('says so, in words, when signing in for this session fails too', async () => {
    fakeCommands.signIn.mockResolvedValue(failed(commandError('keyring_unavailable')));
    fakeCommands.signInForThisSession.mockResolvedValue(
      failed(commandError('invalid_credentials')),
    );
    const { user, onSignedIn } = renderSignIn();
    await fillAndSubmit(user);
    await user.click(await screen.findByRole('button', { name: 'Sign in for this session only' }));

    expect(await screen.findByText('Wrong user name or password.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Sign in for this session only' })).toBeNull();
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it('names the address the user typed when the core sends none', async () => {
    fakeCommands.signIn.mockResolvedValue(failed(commandError('server_unreachable')));
    const { user } = renderSignIn();
    await fillAndSubmit(user);
    expect(await screen.findByTestId('sign-in-error')).toHaveTextContent(
      'Cannot reach https://oa.example.com. Check the address and your network.',
    );
    expect(field.server()).toHaveFocus();
  });

  it('points at the address when the server\'s certificate is not trusted', async () => {
    fakeCommands.signIn.mockResolvedValue(failed(commandError('server_untrusted')));
    const { user } = renderSignIn();
    await fillAndSubmit(user);
    expect(await screen.findByTestId('sign-in-error')).toHaveTextContent(
      'The certificate of https://oa.example.com is not trusted on this computer',
    );
    expect(field.server()).toHaveFocus();
    expect(field.server()).toHaveAttribute('aria-invalid', 'true');
    // The password stays: once IT has installed the certificate, signing in is one click.
    expect(field.password()).toHaveValue(' s3cret ');
  });

  it('shows the core message for an error code it does not know', async () => {
    fakeCommands.signIn.mockResolvedValue(
      failed({
        ...commandError('internal'),
        code: 'mfa_required' as CommandErrorCode,
        message: 'A second factor is required.',
      }),
    );
    const { user } = renderSignIn();
    await fillAndSubmit(user);
    expect(await screen.findByTestId('sign-in-error')).toHaveTextContent(
      'A second factor is required.',
    );
  });

  it('clears and refocuses the password after wrong credentials', async () => {
    fakeCommands.signIn.mockResolvedValue(failed(commandError('invalid_credentials')));
    const { user } = renderSignIn();
    await fillAndSubmit(user);
    await screen.findByTestId('sign-in-error');
    expect(field.password()).toHaveValue('');
    expect(field.password()).toHaveFocus();
    expect(field.username()).toHaveValue(' li.lei ');
  });

  it('explains errors in Chinese when the language is zh-CN', async () => {
    await i18n.changeLanguage('zh-CN');
    fakeCommands.signIn.mockResolvedValue(
      failed(commandError('login_throttled', { retry_after_secs: 30 })),
    );
    const { user } = renderSignIn({ server: 'https://oa.example.com', username: 'li.lei' });
    expect(screen.getByRole('heading', { name: '登录' })).toBeInTheDocument();
    await user.type(screen.getByLabelText('密码'), 'x{Enter}');
    expect(await screen.findByTestId('sign-in-error')).toHaveTextContent(
      '登录失败次数过多，请 30 秒后再试。',
    );
  });

  it('prefills the last server and user and starts at the password', () => {
    renderSignIn({ server: 'https://oa.example.com', username: 'li.lei' });
    expect(field.server()).toHaveValue('https://oa.example.com');
    expect(field.username()).toHaveValue('li.lei');
    expect(field.password()).toHaveFocus();
  });

  it('starts at the server address on first use', () => {
    renderSignIn();
    expect(field.server()).toHaveFocus();
  });

  it('shows why the user was signed out until they try again', async () => {
    fakeCommands.signIn.mockResolvedValue(failed(commandError('invalid_credentials')));
    const { user } = renderSignIn({
      server: 'https://oa.example.com',
      username: 'li.lei',
      reason: commandError('session_revoked'),
    });
    expect(screen.getByTestId('signed-out-reason')).toHaveTextContent(
      'You were signed out because this session was revoked.',
    );
    await user.type(screen.getByLabelText('Password'), 'x{Enter}');
    await screen.findByTestId('sign-in-error');
    expect(screen.queryByTestId('signed-out-reason')).not.toBeInTheDocument();
  });

  it('reports a sign-in that ended signed out with its reason', async () => {
    fakeCommands.signIn.mockResolvedValue(
      ok(signedOut({ reason: commandError('account_disabled') })),
    );
    const { user, onSignedIn } = renderSignIn();
    await fillAndSubmit(user);
    expect(await screen.findByTestId('sign-in-error')).toHaveTextContent(
      'Your account has been disabled. Contact your administrator.',
    );
    expect(onSignedIn).not.toHaveBeenCalled();
  });

  it('offers the language choice', async () => {
    const { user, onLanguageChange } = renderSignIn();
    await user.selectOptions(screen.getByLabelText('Language'), '简体中文');
    expect(onLanguageChange).toHaveBeenCalledWith('zh-CN');
  });
});
