/** GitHub's pagination through the Link header (RFC 8288). */

const NEXT = /<([^>]*)>\s*;\s*rel="?(?:[^"]*\s)?next(?:\s[^"]*)?"?/;

/** Whether a Link header has a rel="next". */
export function hasNextLink(link: string | undefined): boolean {
  return link !== undefined && NEXT.test(link);
}

/**
 * A query parameter of the rel="next" URL (cursor pagination: `cursor`): `none` when there is no
 * next page, `missing` when the next URL has no such parameter (or is no URL).
 */
export function nextLinkParam(link: string | undefined, name: string): { readonly kind: "none" } | { readonly kind: "missing" } | { readonly kind: "value"; readonly value: string } {
  const url = link === undefined ? undefined : NEXT.exec(link)?.[1];
  if (url === undefined) return { kind: "none" };
  try {
    const value = new URL(url, "http://base.invalid").searchParams.get(name);
    return value === null || value === "" ? { kind: "missing" } : { kind: "value", value };
  } catch {
    return { kind: "missing" };
  }
}
