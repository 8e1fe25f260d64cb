/** PostgreSQL keeps no NUL character in text: where text that may hold one is kept, it is shown as U+FFFD. */
export function withNulShown(text: string): string {
  return text.replaceAll('\0', '\uFFFD');
}
