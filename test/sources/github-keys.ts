/**
 * The stream's key of a GitHub item, as the API contract gives it, derived here from the item alone (not by
 * the source's code): `owner/name#number` for an issue or a pull request, a comment's numeric `id`.
 */
export function githubKey(item: Record<string, unknown>): string {
  if (typeof item.number !== "number") return String(item.id);
  const issueRepository =
    typeof item.repository_url === "string" ? item.repository_url.split("/repos/")[1] : undefined;
  const pullRepository = (item.base as { repo?: { full_name?: string } } | undefined)?.repo?.full_name;
  return `${issueRepository ?? pullRepository}#${item.number}`;
}
