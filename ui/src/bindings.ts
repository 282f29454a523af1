// Hand-written stand-in for the bindings that tauri-specta generates from the Rust commands
// in src-tauri. The generator overwrites this file; keep its shape identical to the generated
// one and import it only through `./api`.

/** user-defined commands **/

export const commands = {
  async getPreferences(): Promise<Result<Preferences, CommandError>> {
    try {
      return { status: 'ok', data: await TAURI_INVOKE('get_preferences') };
    } catch (e) {
      if (e instanceof Error) throw e;
      else return { status: 'error', error: e as CommandError };
    }
  },
  async setLanguage(language: LanguagePreference): Promise<Result<Preferences, CommandError>> {
    try {
      return { status: 'ok', data: await TAURI_INVOKE('set_language', { language }) };
    } catch (e) {
      if (e instanceof Error) throw e;
      else return { status: 'error', error: e as CommandError };
    }
  },
  async restoreSession(): Promise<Result<SessionView, CommandError>> {
    try {
      return { status: 'ok', data: await TAURI_INVOKE('restore_session') };
    } catch (e) {
      if (e instanceof Error) throw e;
      else return { status: 'error', error: e as CommandError };
    }
  },
  async signIn(
    server: string,
    username: string,
    password: string,
  ): Promise<Result<SessionView, CommandError>> {
    try {
      return {
        status: 'ok',
        data: await TAURI_INVOKE('sign_in', { server, username, password }),
      };
    } catch (e) {
      if (e instanceof Error) throw e;
      else return { status: 'error', error: e as CommandError };
    }
  },
  async signOut(): Promise<Result<SessionView, CommandError>> {
    try {
      return { status: 'ok', data: await TAURI_INVOKE('sign_out') };
    } catch (e) {
      if (e instanceof Error) throw e;
      else return { status: 'error', error: e as CommandError };
    }
  },
};

/** user-defined types **/

export type LanguagePreference = 'system' | 'zh-CN' | 'en';
export type Language = 'zh-CN' | 'en';
export type Preferences = {
  language: LanguagePreference;
  resolved_language: Language;
  app_version: string;
};
export type DepartmentRef = { id: string; name: string };
export type Me = {
  id: string;
  username: string;
  display_name: string;
  department: DepartmentRef | null;
  roles: string[];
};
export type SessionView =
  | {
      state: 'signed_out';
      reason: CommandError | null;
      server: string | null;
      username: string | null;
    }
  | { state: 'signed_in'; me: Me; server: string; offline: boolean };
export type CommandErrorCode =
  | 'invalid_server_url'
  | 'server_unreachable'
  | 'not_countersign'
  | 'invalid_credentials'
  | 'login_throttled'
  | 'account_disabled'
  | 'session_expired'
  | 'session_revoked'
  | 'keyring_unavailable'
  | 'server_error'
  | 'settings'
  | 'internal';
export type CommandError = {
  code: CommandErrorCode;
  message: string;
  url: string | null;
  retry_after_secs: number | null;
};

/** tauri-specta globals **/

import { invoke as TAURI_INVOKE } from '@tauri-apps/api/core';

export type Result<T, E> = { status: 'ok'; data: T } | { status: 'error'; error: E };
