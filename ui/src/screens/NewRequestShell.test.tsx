// New request, About and "Report a problem" as the shell reaches them: the navigation and the
// command palette.
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { englishPreferences, ok, signedIn } from '../test/fixtures';
import { allTemplates } from '../test/templates';
import { Shell } from './Shell';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

function renderShell() {
  const user = userEvent.setup();
  render(
    <Shell
      session={signedIn()}
      preferences={englishPreferences}
      onLanguageChange={vi.fn().mockResolvedValue(null)}
      onSignedOut={vi.fn()}
    />,
  );
  return user;
}

async function runFromPalette(user: ReturnType<typeof userEvent.setup>, words: string) {
  await user.keyboard('{Control>}k{/Control}');
  await user.keyboard(words);
  await user.keyboard('{Enter}');
}

describe('New request, About and Report a problem in the shell', () => {
  beforeEach(() => {
    resetFakeCommands();
    fakeCommands.templates.mockResolvedValue(ok(allTemplates));
    fakeCommands.about.mockResolvedValue(
      ok({
        version: '0.1.0',
        commit: 'cb35a34',
        tauri_version: '2.9.1',
        os: 'Linux',
        profile_dir: null,
        log_dir: null,
        remembers_sign_in: true,
      }),
    );
  });

  it('opens the form gallery from the navigation, no longer "soon"', async () => {
    const user = renderShell();
    const entry = screen.getByTestId('nav-new-request');
    expect(entry).not.toHaveTextContent('Soon');
    await user.click(entry);
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('New request');
    expect(await screen.findByTestId('template-leave')).toBeInTheDocument();
  });

  it('goes to New request from the palette, with the keyboard on the heading', async () => {
    const user = renderShell();
    await runFromPalette(user, 'new request');
    expect(screen.getByRole('heading', { level: 1, name: 'New request' })).toHaveFocus();
  });

  it('opens About from the palette and goes back to Settings', async () => {
    const user = renderShell();
    await runFromPalette(user, 'about');
    expect(screen.getByRole('heading', { level: 1, name: 'About Countersign' })).toHaveFocus();
    expect(await screen.findByTestId('about-version')).toHaveTextContent('0.1.0');
    expect(screen.getByTestId('nav-settings')).toHaveAttribute('aria-current', 'page');
    await user.click(screen.getByRole('button', { name: /Back to Settings/ }));
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Settings');
  });

  it('opens "Report a problem" from the palette over the current screen', async () => {
    const user = renderShell();
    await runFromPalette(user, 'report');
    const dialog = screen.getByRole('dialog', { name: 'Report a problem' });
    expect(within(dialog).getByRole('textbox', { name: 'What happened?' })).toHaveFocus();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog', { name: 'Report a problem' })).toBeNull();
  });
});
