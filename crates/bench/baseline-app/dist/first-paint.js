// After the first frame is painted (two animation frames), as the Countersign inbox does.
requestAnimationFrame(() => {
  requestAnimationFrame(() => {
    window.__TAURI_INTERNALS__.invoke('first_paint', { screen: 'empty' });
  });
});
