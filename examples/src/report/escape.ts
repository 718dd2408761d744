/**
 * Escapes text for use inside HTML or SVG, in element content and in quoted attribute values.
 * Every piece of text a caller passes to the report functions goes through this.
 */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;") // first, so that the entities below are not escaped again
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}
