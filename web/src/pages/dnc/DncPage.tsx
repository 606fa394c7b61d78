import { PlaceholderPage } from '../PlaceholderPage';

/** DNC list (phase 1 placeholder). */
export default function DncPage() {
  return <PlaceholderPage title="DNC list" />;
}
