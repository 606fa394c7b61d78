import { PlaceholderPage } from '../PlaceholderPage';

/** Phone numbers (phase 1 placeholder). */
export default function PhoneNumbersPage() {
  return <PlaceholderPage title="Phone numbers" />;
}
