// Which desktop the page runs on, for the few styles that differ by platform. Set on <html>
// before the first render, so the first layout already uses them.

/** `linux` under WebKitGTK; nothing elsewhere (macOS, Windows: the default styles). */
function platformOf(userAgent: string): 'linux' | null {
  return /\bLinux\b/.test(userAgent) && !/\bAndroid\b/.test(userAgent) ? 'linux' : null;
}

/** Marks `root` with `data-os` when the platform has styles of its own. */
export function markPlatform(root: HTMLElement, userAgent: string): void {
  const platform = platformOf(userAgent);
  if (platform === null) root.removeAttribute('data-os');
  else root.setAttribute('data-os', platform);
}
