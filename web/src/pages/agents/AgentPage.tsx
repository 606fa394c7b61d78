import { PlaceholderPage } from '../PlaceholderPage';

/** Agent (phase 1 placeholder). */
export default function AgentPage() {
  return <PlaceholderPage title="Agent" />;
}
