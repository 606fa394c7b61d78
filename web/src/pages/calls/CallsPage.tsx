import { PlaceholderPage } from '../PlaceholderPage';

/** Calls (phase 1 placeholder). */
export default function CallsPage() {
  return <PlaceholderPage title="Calls" />;
}
