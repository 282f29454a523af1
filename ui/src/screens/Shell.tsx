// The signed-in frame every screen lives in: the top bar (product, who is signed in, whether
// the app is offline), the navigation on the left, and the current view. It also owns the
// actions that end or change the session, so that every way of reaching them behaves alike.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { KeyboardEvent, ReactElement } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import type { CommandError, DraftView, LanguagePreference, Preferences, SessionView } from '../api';
import { describeError } from '../errors';
import { onOpenRequest } from '../events';
import { useLive, useSyncSnapshot } from '../list/live';
import type { LiveLists } from '../list/live';
import {
  AlertIcon,
  CloseIcon,
  DraftsIcon,
  InboxIcon,
  KnowledgeBaseIcon,
  MeetingsIcon,
  MyRequestsIcon,
  NewRequestIcon,
  OfflineIcon,
  ProductMark,
  SearchIcon,
  SettingsIcon,
} from '../icons';
import { CommandPalette, isPaletteShortcut } from './CommandPalette';
import type { PaletteEntry } from './CommandPalette';
import { ComingSoon } from './ComingSoon';
import { Drafts } from './Drafts';
import type { DraftOpening } from './Drafts';
import { Inbox } from './Inbox';
import { Meetings } from './Meetings';
import type { MeetingOpening } from './Meetings';
import { MyRequests } from './MyRequests';
import { RequestDetail } from './RequestDetail';
import { Settings } from './Settings';
import { About } from './About';
import { NewRequest } from './NewRequest';
import { ReportProblemDialog } from './SettingsReportProblem';

export type SignedIn = Extract<SessionView, { state: 'signed_in' }>;

export type View =
  | 'inbox'
  | 'newRequest'
  | 'myRequests'
  | 'drafts'
  | 'meetings'
  | 'knowledgeBase'
  | 'settings';

interface Destination {
  view: View;
  label: `nav.${View}`;
  icon: ReactElement;
  /** False while the screen is not built; the entry leads to a "coming soon" page. */
  ready: boolean;
  testId: string;
}

const destinations: readonly Destination[] = [
  { view: 'inbox', label: 'nav.inbox', icon: <InboxIcon />, ready: true, testId: 'nav-inbox' },
  {
    view: 'newRequest',
    label: 'nav.newRequest',
    icon: <NewRequestIcon />,
    ready: true,
    testId: 'nav-new-request',
  },
  {
    view: 'myRequests',
    label: 'nav.myRequests',
    icon: <MyRequestsIcon />,
    ready: true,
    testId: 'nav-my-requests',
  },
  {
    view: 'drafts',
    label: 'nav.drafts',
    icon: <DraftsIcon />,
    ready: true,
    testId: 'nav-drafts',
  },
  {
    view: 'meetings',
    label: 'nav.meetings',
    icon: <MeetingsIcon />,
    ready: true,
    testId: 'nav-meetings',
  },
  {
    view: 'knowledgeBase',
    label: 'nav.knowledgeBase',
    icon: <KnowledgeBaseIcon />,
    ready: false,
    testId: 'nav-knowledge-base',
  },
  {
    view: 'settings',
    label: 'nav.settings',
    icon: <SettingsIcon />,
    ready: true,
    testId: 'nav-settings',
  },
];

/** Two characters for the avatar: a Chinese given name, or a Latin name's initials. */
export function initialsOf(name: string): string {
  const trimmed = name.trim();
  if (/\p{Script=Han}/u.test(trimmed)) {
    const characters = Array.from(new Intl.Segmenter().segment(trimmed.replace(/\s+/g, '')));
    return characters
      .slice(-2)
      .map((part) => part.segment)
      .join('');
  }
  const words = trimmed.split(/\s+/).filter((word) => word !== '');
  const first = words[0]?.[0] ?? '';
  const last = words.length > 1 ? (words[words.length - 1]?.[0] ?? '') : '';
  return (first + last).toUpperCase();
}

const onMac = /Mac|iPhone|iPad/.test(navigator.userAgent);

interface Notice {
  about: 'signOut' | 'language';
  error: CommandError;
}

/** A request shown over the current view: from a list, a notification, the tray or a link. */
interface OpenedRequest {
  id: string;
  reject: boolean;
  /** Counts every opening, so that opening the same request again starts it afresh. */
  opening: number;
}

interface ShellProps {
  session: SignedIn;
  preferences: Preferences;
  /** Resolves to the error if the language could not be kept, `null` once it is. */
  onLanguageChange: (language: LanguagePreference) => Promise<CommandError | null>;
  onSignedOut: (session: SessionView) => void;
  /** The core's answer to a preference change made in Settings (notifications). */
  onPreferencesChange?: (preferences: Preferences) => void;
  /** The lists as the start prepared them, the inbox's first page already asked for. */
  early?: LiveLists | null;
}

export function Shell({
  session,
  preferences,
  onLanguageChange,
  onSignedOut,
  onPreferencesChange,
  early = null,
}: ShellProps) {
  const { t } = useTranslation();
  const { me } = session;
  const [view, setView] = useState<View>('inbox');
  const [signingOut, setSigningOut] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [paletteOpen, setPaletteOpen] = useState(false);
  // About is a page of Settings; the problem report a dialog over whatever is shown.
  const [aboutOpen, setAboutOpen] = useState(false);
  const [reportOpen, setReportOpen] = useState(false);
  // Bumped when the palette moves to a view: the view's heading then takes the focus, so the
  // keyboard lands where the eyes go.
  const [headingFocus, setHeadingFocus] = useState(0);
  const navList = useRef<HTMLUListElement>(null);
  const main = useRef<HTMLElement>(null);
  const live = useLive(early);
  const { status: syncStatus } = useSyncSnapshot(live.sync);
  // Offline as the last sync says; until the first answer, as the sign-in found it. (The
  // app may have started offline and be back online since.)
  const offline = syncStatus === null ? session.offline : !syncStatus.online;
  const [opened, setOpened] = useState<OpenedRequest | null>(null);
  const [linkProblem, setLinkProblem] = useState<string | null>(null);
  // A meeting asked for from outside (an invitation's Open, a countersign://meeting link).
  const [meetingOpened, setMeetingOpened] = useState<MeetingOpening | null>(null);
  // Bumped when Meetings is chosen in the navigation: it starts afresh on this week's list.
  const [meetingsVisit, setMeetingsVisit] = useState(0);
  // A draft to open in Drafts (the correction of a returned request).
  const [draftOpened, setDraftOpened] = useState<DraftOpening | null>(null);
  // What the current screen adds to the palette (the inbox's "Approve selected").
  const [screenEntries, setScreenEntries] = useState<PaletteEntry[]>([]);

  const openRequest = useCallback((id: string, reject = false) => {
    setLinkProblem(null);
    setOpened((before) => ({ id, reject, opening: (before?.opening ?? 0) + 1 }));
  }, []);

  const openDraft = useCallback((draft: DraftView) => {
    setOpened(null);
    setAboutOpen(false);
    setView('drafts');
    setDraftOpened((before) => ({ id: draft.id, opening: (before?.opening ?? 0) + 1 }));
  }, []);

  const openMeeting = useCallback((id: string) => {
    setLinkProblem(null);
    setOpened(null);
    setAboutOpen(false);
    setView('meetings');
    setMeetingOpened((before) => ({ id, opening: (before?.opening ?? 0) + 1 }));
  }, []);

  // A notification, the tray or a countersign:// link asks for a request or a meeting.
  useEffect(
    () =>
      onOpenRequest((request) => {
        if (request.meeting !== null) {
          openMeeting(request.meeting);
        } else if (request.id !== null) {
          openRequest(request.id, request.reject);
        } else if (request.problem !== null) {
          setLinkProblem(request.problem);
        }
      }),
    [openRequest, openMeeting],
  );

  useEffect(() => {
    if (opened !== null) main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [opened]);

  useEffect(() => {
    const togglePalette = (event: globalThis.KeyboardEvent) => {
      if (!isPaletteShortcut(event)) return;
      event.preventDefault();
      setPaletteOpen((open) => !open);
    };
    window.addEventListener('keydown', togglePalette);
    return () => {
      window.removeEventListener('keydown', togglePalette);
    };
  }, []);

  useEffect(() => {
    if (headingFocus > 0) main.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [headingFocus]);

  // Land the keyboard in the navigation after sign-in, on the page being shown.
  useEffect(() => {
    navList.current?.querySelector<HTMLButtonElement>('[aria-current="page"]')?.focus();
  }, []);

  // Up and down arrows walk the navigation as in a native sidebar; Tab still leaves it.
  const walkNavigation = (event: KeyboardEvent<HTMLUListElement>) => {
    const items = Array.from(
      navList.current?.querySelectorAll<HTMLButtonElement>('.nav-item') ?? [],
    );
    const at = items.findIndex((item) => item === document.activeElement);
    const targets: Partial<Record<string, number>> = {
      ArrowDown: (at + 1) % items.length,
      ArrowUp: (at - 1 + items.length) % items.length,
      Home: 0,
      End: items.length - 1,
    };
    const next = targets[event.key];
    if (next === undefined || at === -1) return;
    event.preventDefault();
    items[next]?.focus();
  };

  const signOut = async () => {
    if (signingOut) return;
    setSigningOut(true);
    setNotice(null);
    const result = await api.signOut();
    if (result.status === 'ok') {
      onSignedOut(result.data);
      return;
    }
    setSigningOut(false);
    setNotice({ about: 'signOut', error: result.error });
  };

  const changeLanguage = async (language: LanguagePreference) => {
    setNotice(null);
    const error = await onLanguageChange(language);
    if (error !== null) setNotice({ about: 'language', error });
  };

  const goFromPalette = (destination: View) => {
    setView(destination);
    setAboutOpen(false);
    setOpened(null);
    setHeadingFocus((count) => count + 1);
  };

  const paletteEntries: PaletteEntry[] = [
    {
      id: 'go-inbox',
      label: t('palette.goInbox'),
      keywords: 'inbox approvals tasks 待办 审批',
      run: () => {
        goFromPalette('inbox');
      },
    },
    {
      id: 'go-my-requests',
      label: t('myRequests.paletteGo'),
      keywords: 'my requests submitted status 我的申请 进度',
      run: () => {
        goFromPalette('myRequests');
      },
    },
    {
      id: 'go-drafts',
      label: t('drafts.paletteGo'),
      keywords: 'drafts unsent saved 草稿 未提交',
      run: () => {
        setDraftOpened(null);
        goFromPalette('drafts');
      },
    },
    {
      id: 'go-meetings',
      label: t('meetings.paletteGo'),
      keywords: 'meetings calendar invitations week agenda 会议 日程 邀请 日历',
      run: () => {
        setMeetingOpened(null);
        setMeetingsVisit((count) => count + 1);
        goFromPalette('meetings');
      },
    },
    {
      id: 'sync-now',
      label: t('sync.paletteSyncNow'),
      keywords: 'sync refresh outbox send 同步 刷新 发送',
      run: () => void live.sync.syncNow(),
    },
    ...screenEntries,
    {
      id: 'go-new-request',
      label: t('palette.goNewRequest'),
      keywords: 'new request form draft leave reimbursement 发起 申请 表单 请假 报销',
      run: () => {
        goFromPalette('newRequest');
      },
    },
    {
      id: 'go-settings',
      label: t('palette.goSettings'),
      keywords: 'settings preferences account 设置 账号',
      run: () => {
        goFromPalette('settings');
      },
    },
    {
      id: 'go-about',
      label: t('palette.goAbout'),
      keywords: 'about version build logs folder 关于 版本 日志',
      run: () => {
        goFromPalette('settings');
        setAboutOpen(true);
      },
    },
    {
      id: 'report-problem',
      label: t('palette.reportProblem'),
      keywords: 'report problem bug support help log 报告 问题 反馈 支持',
      run: () => {
        setReportOpen(true);
      },
    },
    {
      id: 'language-zh-CN',
      label: t('palette.languageZh'),
      keywords: 'language chinese 语言 中文',
      current: preferences.language === 'zh-CN',
      run: () => void changeLanguage('zh-CN'),
    },
    {
      id: 'language-en',
      label: t('palette.languageEn'),
      keywords: 'language english 语言 英文 英语',
      current: preferences.language === 'en',
      run: () => void changeLanguage('en'),
    },
    {
      id: 'language-system',
      label: t('palette.languageSystem'),
      keywords: 'language system 语言 系统',
      current: preferences.language === 'system',
      run: () => void changeLanguage('system'),
    },
    {
      id: 'sign-out',
      label: t('palette.signOut'),
      keywords: 'sign out log out logout 退出 注销',
      run: () => void signOut(),
    },
  ];

  const current = destinations.find((d) => d.view === view) ?? destinations[0];

  const closeRequest = () => {
    setOpened(null);
    // Back in the list, where the keyboard was.
    window.setTimeout(() => {
      main.current?.querySelector<HTMLElement>('.virtual-list')?.focus();
    });
  };

  let content: ReactElement;
  if (opened !== null) {
    content = (
      <RequestDetail
        key={opened.opening}
        requestId={opened.id}
        startWith={opened.reject ? 'reject' : null}
        changes={live.changes}
        online={syncStatus?.online ?? null}
        onBack={closeRequest}
        meId={me.id}
        onOpenDraft={openDraft}
      />
    );
  } else if (view === 'inbox') {
    content = (
      <Inbox
        list={live.inbox}
        sync={live.sync}
        onOpen={openRequest}
        onOpenMeeting={openMeeting}
        onPaletteEntries={setScreenEntries}
      />
    );
  } else if (view === 'meetings') {
    content = <Meetings key={meetingsVisit} changes={live.changes} open={meetingOpened} />;
  } else if (view === 'myRequests') {
    content = <MyRequests list={live.myRequests} onOpen={openRequest} />;
  } else if (view === 'drafts') {
    content = (
      <Drafts
        changes={live.changes}
        open={draftOpened}
        onNewRequest={() => {
          setView('newRequest');
        }}
        onOpenMyRequests={() => {
          setView('myRequests');
        }}
      />
    );
  } else if (view === 'newRequest') {
    content = (
      <NewRequest
        changes={live.changes}
        onOpenMyRequests={() => {
          setView('myRequests');
        }}
      />
    );
  } else if (view === 'settings' && aboutOpen) {
    content = (
      <About
        onBack={() => {
          setAboutOpen(false);
        }}
      />
    );
  } else if (view === 'settings') {
    content = (
      <Settings
        me={me}
        server={session.server}
        preferences={preferences}
        signingOut={signingOut}
        onLanguageChange={(language) => void changeLanguage(language)}
        onSignOut={() => void signOut()}
        onPreferencesChange={onPreferencesChange}
        onOpenAbout={() => {
          setAboutOpen(true);
        }}
        onReportProblem={() => {
          setReportOpen(true);
        }}
      />
    );
  } else {
    content = (
      <ComingSoon
        feature={t(current?.label ?? 'nav.inbox')}
        icon={current?.icon}
        onBack={() => {
          setView('inbox');
        }}
      />
    );
  }

  return (
    <div className="shell" data-testid="shell">
      <header className="topbar">
        <div className="topbar-brand">
          <ProductMark className="topbar-mark" />
          <span className="topbar-name">{t('app.name')}</span>
        </div>
        <button
          type="button"
          className="palette-trigger"
          data-testid="open-palette"
          aria-keyshortcuts={onMac ? 'Meta+K' : 'Control+K'}
          onClick={() => {
            setPaletteOpen(true);
          }}
        >
          <SearchIcon />
          <span className="palette-trigger-label">{t('shell.openPalette')}</span>
          <kbd>{onMac ? '⌘K' : 'Ctrl K'}</kbd>
        </button>
        <div className="topbar-end">
          {offline && (
            <span
              className="badge badge-offline"
              data-testid="offline-badge"
              title={t('shell.offlineHint')}
            >
              <OfflineIcon />
              {t('shell.offline')}
              <span className="visually-hidden">{t('shell.offlineHint')}</span>
            </span>
          )}
          <div className="person">
            <span className="avatar" aria-hidden="true">
              {initialsOf(me.display_name)}
            </span>
            <span className="person-text">
              <span className="person-name" data-testid="display-name">
                {me.display_name}
              </span>
              {me.department && (
                <span className="person-department" data-testid="department">
                  {me.department.name}
                </span>
              )}
            </span>
          </div>
        </div>
      </header>

      <nav className="sidebar" aria-label={t('shell.navLabel')}>
        <ul className="nav-list" ref={navList} onKeyDown={walkNavigation}>
          {destinations.map((destination) => (
            <li key={destination.view}>
              <button
                type="button"
                className="nav-item"
                data-testid={destination.testId}
                aria-current={view === destination.view ? 'page' : undefined}
                onClick={() => {
                  setView(destination.view);
                  setAboutOpen(false);
                  setOpened(null);
                  if (destination.view === 'drafts') setDraftOpened(null);
                  if (destination.view === 'meetings') {
                    setMeetingOpened(null);
                    setMeetingsVisit((count) => count + 1);
                  }
                }}
              >
                {destination.icon}
                <span className="nav-label">{t(destination.label)}</span>
                {!destination.ready && <span className="nav-soon">{t('nav.soon')}</span>}
              </button>
            </li>
          ))}
        </ul>
      </nav>

      <main className="content" id="main" ref={main}>
        {notice !== null && (
          <div className="banner banner-error notice" role="alert" data-testid="shell-notice">
            <AlertIcon />
            <p>
              {notice.about === 'signOut'
                ? t('shell.signOutFailed', { reason: describeError(t, notice.error) })
                : t('settings.languageSaveFailed', { reason: describeError(t, notice.error) })}
            </p>
            <button
              type="button"
              className="icon-button"
              aria-label={t('shell.dismiss')}
              onClick={() => {
                setNotice(null);
              }}
            >
              <CloseIcon />
            </button>
          </div>
        )}
        {linkProblem !== null && (
          <div className="banner banner-error notice" role="alert" data-testid="link-problem">
            <AlertIcon />
            <p>{t('request.linkProblem', { problem: linkProblem })}</p>
            <button
              type="button"
              className="icon-button"
              aria-label={t('shell.dismiss')}
              onClick={() => {
                setLinkProblem(null);
              }}
            >
              <CloseIcon />
            </button>
          </div>
        )}
        {content}
      </main>

      {reportOpen && (
        <ReportProblemDialog
          onClose={() => {
            setReportOpen(false);
          }}
        />
      )}
      {paletteOpen && (
        <CommandPalette
          entries={paletteEntries}
          onClose={() => {
            setPaletteOpen(false);
          }}
        />
      )}
    </div>
  );
}
