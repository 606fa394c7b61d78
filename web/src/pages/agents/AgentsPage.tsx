import { PlaceholderPage } from '../PlaceholderPage';

/** Agents (phase 1 placeholder). */
export default function AgentsPage() {
  return <PlaceholderPage title="Agents" />;
}
