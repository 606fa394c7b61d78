import { PlaceholderPage } from '../PlaceholderPage';

/** Call (phase 1 placeholder). */
export default function CallPage() {
  return <PlaceholderPage title="Call" />;
}
