import { PlaceholderPage } from '../PlaceholderPage';

/** Settings (phase 1 placeholder). */
export default function SettingsPage() {
  return <PlaceholderPage title="Settings" />;
}
