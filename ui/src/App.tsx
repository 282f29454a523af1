// The app's top level: start-up (preferences and the stored session), the language, and
// which of the three states the window is in — starting, signed out, or signed in.
import { useEffect, useRef, useState } from 'react';
import { api } from './api';
import type { CommandError, LanguagePreference, Preferences, SessionView } from './api';
import { onSessionChanged, onSessionEnded } from './events';
import { applyLanguage, guessSystemLanguage } from './i18n';
import { listsAskedEarly } from './list/live';
import type { LiveLists } from './list/live';
import { Shell } from './screens/Shell';
import { SignIn } from './screens/SignIn';
import { Splash } from './screens/Splash';
import { markStart } from './startMarks';

function signedOutBecause(reason: CommandError): SessionView {
  return { state: 'signed_out', reason, server: null, username: null };
}

export function App() {
  const [preferences, setPreferences] = useState<Preferences | null>(null);
  const [session, setSession] = useState<SessionView | null>(null);
  // The lists the start prepared for the person it found signed in, for that session's shell
  // only: a later sign-in starts from empty lists.
  const [early, setEarly] = useState<{ session: SessionView; lists: LiveLists } | null>(null);
  // Language changes can overlap; only the newest one's answer may set the language.
  const languageRequest = useRef(0);

  useEffect(() => {
    // Strict mode mounts twice in development; only the mounted app may act on the answers.
    const unmounted = new AbortController();
    const gone = () => unmounted.signal.aborted;
    void (async () => {
      // Both asked at once, so the start waits for one answer from the core rather than two
      // in turn; the language is still applied first, so that whatever comes next is shown in
      // it.
      const asked = api.getPreferences();
      const restoring = api.restoreSession();
      const loaded = await asked;
      markStart('preferences');
      if (gone()) return;
      const known: Preferences =
        loaded.status === 'ok'
          ? loaded.data
          : {
              language: 'system',
              resolved_language: guessSystemLanguage(),
              app_version: '',
              notifications: true,
              meeting_reminder_minutes: 15,
            };
      applyLanguage(known.resolved_language);
      setPreferences(known);

      const restored = await restoring;
      markStart('session');
      if (gone()) return;
      const found = restored.status === 'ok' ? restored.data : signedOutBecause(restored.error);
      if (found.state === 'signed_in') setEarly({ session: found, lists: listsAskedEarly() });
      setSession(found);
    })();
    return () => {
      unmounted.abort();
    };
  }, []);

  // The sign-in ended while the app ran (expired, revoked elsewhere): back to signing in, with
  // the reason, the server and the user name kept so that only the password is asked for.
  useEffect(
    () =>
      onSessionEnded((reason) => {
        setSession((current) =>
          current?.state === 'signed_in'
            ? { state: 'signed_out', reason, server: current.server, username: current.me.username }
            : current,
        );
      }),
    [],
  );

  // The server's answer about who is signed in, after a start that used the remembered one;
  // only for that same person (a late answer must not replace someone who signed in since).
  useEffect(
    () =>
      onSessionChanged((fresh) => {
        setSession((current) =>
          current?.state === 'signed_in' &&
          fresh.state === 'signed_in' &&
          current.me.id === fresh.me.id
            ? fresh
            : current,
        );
      }),
    [],
  );

  /**
   * Shows the new language at once, then asks the core to keep it. If the core cannot, the
   * language stays for this run and the caller is told it was not saved.
   */
  const changeLanguage = async (language: LanguagePreference): Promise<CommandError | null> => {
    const request = ++languageRequest.current;
    const shown = language === 'system' ? guessSystemLanguage() : language;
    applyLanguage(shown);
    setPreferences((before) => before && { ...before, language, resolved_language: shown });

    const saved = await api.setLanguage(language);
    if (request !== languageRequest.current) return null;
    if (saved.status === 'error') return saved.error;
    applyLanguage(saved.data.resolved_language);
    setPreferences(saved.data);
    return null;
  };

  if (preferences === null || session === null) return <Splash />;

  if (session.state === 'signed_in') {
    return (
      <Shell
        session={session}
        preferences={preferences}
        onLanguageChange={changeLanguage}
        onSignedOut={setSession}
        onPreferencesChange={setPreferences}
        early={early?.session === session ? early.lists : null}
      />
    );
  }

  return (
    <SignIn
      server={session.server}
      username={session.username}
      reason={session.reason}
      language={preferences.language}
      onLanguageChange={(language) => void changeLanguage(language)}
      onSignedIn={(signedIn) => {
        // The start's lists belonged to the session that ended.
        setEarly(null);
        setSession(signedIn);
      }}
    />
  );
}
