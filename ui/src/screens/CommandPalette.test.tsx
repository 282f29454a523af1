import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../App';
import { fakeCommands, resetFakeCommands } from '../test/fakeCommands';
import { englishPreferences, ok, signedIn, signedOut } from '../test/fixtures';
import { matchesQuery } from './CommandPalette';

vi.mock('../bindings', async () => ({
  commands: (await import('../test/fakeCommands')).fakeCommands,
}));

async function startSignedIn() {
  fakeCommands.getPreferences.mockResolvedValue(ok(englishPreferences));
  fakeCommands.restoreSession.mockResolvedValue(ok(signedIn()));
  const user = userEvent.setup();
  render(<App />);
  await screen.findByTestId('shell');
  // The shell's effects (the palette's shortcut among them) run after it is drawn, and on a
  // busy machine after `findByTestId` has returned: the keyboard landing in the navigation
  // is the last of them, so the shortcut is listened for from then on.
  await waitFor(() => {
    expect(screen.getByTestId('nav-inbox')).toHaveFocus();
  });
  return user;
}

function options() {
  return within(screen.getByRole('listbox')).queryAllByRole('option');
}

describe('command palette', () => {
  beforeEach(() => {
    resetFakeCommands();
  });

  it('opens with Ctrl+K, finds Settings by typing, and goes there with Enter', async () => {
    const user = await startSignedIn();
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();

    await user.keyboard('{Control>}k{/Control}');
    const palette = screen.getByRole('dialog', { name: 'Command palette' });
    expect(within(palette).getByRole('combobox')).toHaveFocus();

    await user.keyboard('sett');
    expect(options().map((option) => option.textContent)).toEqual(['Go to Settings']);
    await user.keyboard('{Enter}');

    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(screen.getByTestId('nav-settings')).toHaveAttribute('aria-current', 'page');
    // The keyboard lands on the new view, not back in the navigation.
    expect(screen.getByRole('heading', { level: 1, name: 'Settings' })).toHaveFocus();
  });

  it('also opens with ⌘K, closes with Escape and gives the focus back', async () => {
    const user = await startSignedIn();
    const before = screen.getByTestId('nav-inbox');
    expect(before).toHaveFocus();

    await user.keyboard('{Meta>}k{/Meta}');
    expect(screen.getByRole('dialog')).toBeInTheDocument();
    await user.keyboard('{Escape}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    expect(before).toHaveFocus();
  });

  it('opens from the top-bar button, and Ctrl+K inside it closes it again', async () => {
    const user = await startSignedIn();
    await user.click(screen.getByTestId('open-palette'));
    expect(screen.getByRole('dialog')).toBeInTheDocument();
    await user.keyboard('{Control>}k{/Control}');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
  });

  it('runs the entry chosen with the arrows: sign out', async () => {
    const user = await startSignedIn();
    fakeCommands.signOut.mockResolvedValue(ok(signedOut({ username: 'li.lei' })));
    await user.keyboard('{Control>}k{/Control}');
    const all = options();
    expect(all.at(-1)).toHaveTextContent('Sign out');

    await user.keyboard('{ArrowUp}');
    expect(all.at(-1)).toHaveAttribute('aria-selected', 'true');
    expect(screen.getByRole('combobox')).toHaveAttribute(
      'aria-activedescendant',
      all.at(-1)?.id,
    );
    await user.keyboard('{Enter}');

    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
    expect(fakeCommands.signOut).toHaveBeenCalledTimes(1);
  });

  it('switches the language and marks the one in use', async () => {
    const user = await startSignedIn();
    fakeCommands.setLanguage.mockResolvedValue(
      ok({ ...englishPreferences, language: 'zh-CN', resolved_language: 'zh-CN' }),
    );
    await user.keyboard('{Control>}k{/Control}');
    expect(screen.getByRole('option', { name: /follow system/ })).toHaveTextContent('Current');

    await user.keyboard('中文{Enter}');
    expect(fakeCommands.setLanguage).toHaveBeenCalledWith('zh-CN');
    expect(await screen.findByTestId('nav-inbox')).toHaveTextContent('待办');
    expect(document.documentElement).toHaveAttribute('lang', 'zh-CN');

    await user.keyboard('{Control>}k{/Control}');
    expect(screen.getByRole('dialog', { name: '命令面板' })).toBeInTheDocument();
    expect(screen.getByRole('option', { name: /简体中文/ })).toHaveTextContent('当前');
  });

  it('runs an entry on click and says when nothing matches', async () => {
    const user = await startSignedIn();
    await user.click(screen.getByTestId('open-palette'));
    await user.keyboard('zzz');
    expect(options()).toEqual([]);
    expect(screen.getByRole('status')).toHaveTextContent('No matching commands');
    await user.keyboard('{Enter}');
    // Enter with nothing to run leaves the palette open.
    expect(screen.getByRole('dialog')).toBeInTheDocument();

    await user.clear(screen.getByRole('combobox'));
    await user.click(screen.getByRole('option', { name: 'Go to Settings' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Settings' })).toBeInTheDocument();
  });

  it('keeps the focus inside while open', async () => {
    const user = await startSignedIn();
    await user.keyboard('{Control>}k{/Control}');
    await user.tab();
    expect(screen.getByRole('combobox')).toHaveFocus();
  });
});

describe('matchesQuery', () => {
  const entry = { id: 'x', label: 'Go to Settings', keywords: '设置 preferences', run: vi.fn() };

  it('needs every typed word, in any order, in the label or keywords', () => {
    expect(matchesQuery(entry, '')).toBe(true);
    expect(matchesQuery(entry, 'SETTINGS go')).toBe(true);
    expect(matchesQuery(entry, '设置')).toBe(true);
    expect(matchesQuery(entry, 'pref')).toBe(true);
    expect(matchesQuery(entry, 'settings inbox')).toBe(false);
  });
});
