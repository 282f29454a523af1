// Stand-ins for the generated Tauri commands. Tests replace `./bindings` with these through
// `vi.mock` and script each command's answer; the UI under test runs unchanged above them.
import { vi } from 'vitest';
import type { commands } from '../bindings';

type Commands = typeof commands;

export const fakeCommands = {
  getPreferences: vi.fn<Commands['getPreferences']>(),
  setLanguage: vi.fn<Commands['setLanguage']>(),
  restoreSession: vi.fn<Commands['restoreSession']>(),
  signIn: vi.fn<Commands['signIn']>(),
  signOut: vi.fn<Commands['signOut']>(),
};

export function resetFakeCommands(): void {
  for (const command of Object.values(fakeCommands)) command.mockReset();
}
