/** GitHub's pagination through the Link header (RFC 8288). */

const NEXT = /<([^>]*)>\s*;\s*rel="?(?:[^"]*\s)?next(?:\s[^"]*)?"?/;

/** Whether a Link header has a rel="next". */
export function hasNextLink(link: string | undefined): boolean {
  return link !== undefined && NEXT.test(link);
}

/** A query parameter of the rel="next" URL (cursor pagination: `cursor`); null when there is no next page or no such parameter. */
export function nextLinkParam(link: string | undefined, name: string): string | null {
  const url = link === undefined ? undefined : NEXT.exec(link)?.[1];
  if (url === undefined) return null;
  try {
    return new URL(url, "http://base.invalid").searchParams.get(name);
  } catch {
    return null;
  }
}
