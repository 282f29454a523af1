import { beforeEach, describe, expect, it, vi } from 'vitest';
import { api } from './api';
import { fakeCommands, resetFakeCommands } from './test/fakeCommands';

vi.mock('./bindings', async () => ({
  commands: (await import('./test/fakeCommands')).fakeCommands,
}));

describe('api', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('passes the arguments through to the generated command', async () => {
    fakeCommands.signIn.mockResolvedValue({
      status: 'ok',
      data: { state: 'signed_out', reason: null, server: null, username: null },
    });
    await api.signIn('https://oa.example.com', 'li.lei', 'secret');
    expect(fakeCommands.signIn).toHaveBeenCalledWith('https://oa.example.com', 'li.lei', 'secret');
  });

  it('keeps a well-formed command error as it is', async () => {
    const error = {
      code: 'login_throttled' as const,
      message: 'throttled',
      url: null,
      retry_after_secs: 30,
    };
    fakeCommands.signIn.mockResolvedValue({ status: 'error', error });
    // A screen must see the core's own code and parameters, not a generic failure.
    expect(await api.signIn('s', 'u', 'p')).toEqual({ status: 'error', error });
  });

  it('turns a thrown IPC failure into an internal error instead of a rejected promise', async () => {
    fakeCommands.signIn.mockRejectedValue(new Error('ipc down'));
    // Screens never wrap commands in try/catch; a rejection would leave them stuck busy.
    expect(await api.signIn('s', 'u', 'p')).toEqual({
      status: 'error',
      error: { code: 'internal', message: 'ipc down', url: null, retry_after_secs: null },
    });
  });

  it('turns a bare string rejection from Tauri into an internal error', async () => {
    // The generated bindings cast whatever the promise rejected with, e.g. "command not found".
    fakeCommands.signIn.mockResolvedValue({
      status: 'error',
      error: 'command sign_in not found' as never,
    });
    expect(await api.signIn('s', 'u', 'p')).toEqual({
      status: 'error',
      error: {
        code: 'internal',
        message: 'command sign_in not found',
        url: null,
        retry_after_secs: null,
      },
    });
  });
});
