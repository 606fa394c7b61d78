import { Alert, Badge, createTheme, NavLink, Notification, type CSSVariablesResolver } from '@mantine/core';

/**
 * The dashboard's Mantine theme, tuned for WCAG AA contrast (axe `color-contrast`, checked by the browser suite):
 * filled and light variants use shade 8 (Mantine's default 6 gives white-on-blue and red-on-pink below 4.5:1), and
 * dimmed text is gray 7 instead of gray 6 (3.3:1 on white), error text red 9; badges are light (a tinted background)
 * with near-black text, and alert titles and navigation labels (the active one sits on a tint) near-black, since no
 * palette shade reaches 4.5:1 on its own tint. Notifications' close button gets a name (axe `button-name`).
 */
export const theme = createTheme({
  primaryShade: { light: 8, dark: 8 },
  components: {
    Badge: Badge.extend({ defaultProps: { variant: 'light' }, styles: { label: { color: 'var(--mantine-color-dark-9)' } } }),
    Alert: Alert.extend({ styles: { title: { color: 'var(--mantine-color-dark-9)' } } }),
    Notification: Notification.extend({ defaultProps: { closeButtonProps: { 'aria-label': 'Dismiss notification' } } }),
    NavLink: NavLink.extend({ styles: { label: { color: 'var(--mantine-color-dark-9)' } } }),
  },
});

/** CSS variables the theme object cannot set (dimmed and error text colours). */
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)', '--mantine-color-error': 'var(--mantine-color-red-9)' },
  dark: {},
});
