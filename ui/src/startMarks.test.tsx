// Its own file: the marks and the inbox's "first paint reported" are once per page load.
import { render } from '@testing-library/react';
import { expect, it, vi } from 'vitest';
import { App } from './App';
import { fakeCommands, resetFakeCommands } from './test/fakeCommands';
import { englishPreferences, ok, signedIn } from './test/fixtures';

vi.mock('./bindings', async () => ({
  commands: (await import('./test/fakeCommands')).fakeCommands,
}));

it("logs the inbox's first paint once, with the start's steps in the order they happened", async () => {
  resetFakeCommands();
  fakeCommands.getPreferences.mockResolvedValue(ok(englishPreferences));
  fakeCommands.restoreSession.mockResolvedValue(ok(signedIn()));
  render(<App />);

  await vi.waitFor(() => {
    expect(fakeCommands.firstPaint).toHaveBeenCalled();
  });
  expect(fakeCommands.firstPaint).toHaveBeenCalledTimes(1);
  const [screenName, marks] = fakeCommands.firstPaint.mock.calls[0] ?? [];
  expect(screenName).toBe('inbox');
  if (!marks) throw new Error('the first paint carries no marks');
  expect(marks.page_origin).toBe(performance.timeOrigin);
  const steps = [
    marks.script,
    marks.preferences,
    marks.session,
    marks.list_sent,
    marks.list_answered,
    marks.rendered,
    marks.laid_out,
    marks.painted,
  ];
  for (const step of steps) expect(step).toEqual(expect.any(Number));
  const times = steps.map((step) => step ?? Number.NaN);
  expect(times).toEqual([...times].sort((a, b) => a - b));
});
