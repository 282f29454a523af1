// Entry point: mounts the app into the page Tauri loads from `ui/dist`.
// First, so that its time is when the bundle began to run.
import './startMarks';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './i18n';
import './styles.css';
import { markPlatform } from './platform';

markPlatform(document.documentElement, navigator.userAgent);

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');

createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
