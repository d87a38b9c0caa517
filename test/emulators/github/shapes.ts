/**
 * GitHub's objects as the REST API renders them (the fields GitHub's OpenAPI description requires, checked
 * by test/emulators/github-emulator.test.ts): users, repositories, issues, pull requests, issue comments.
 * URLs point at the emulator's API (`api`) and at github.com for pages.
 */
export type JsonObject = Record<string, unknown>;

const web = "https://github.com";

export function userObject(api: string, login: string, id: number): JsonObject {
  const url = `${api}/users/${login}`;
  return {
    login,
    id,
    node_id: `U_${Buffer.from(`user${id}`).toString("base64url")}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url,
    html_url: `${web}/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: "User",
    user_view_type: "public",
    site_admin: false,
  };
}

export interface RepositoryFacts {
  api: string;
  id: number;
  owner: string;
  ownerId: number;
  name: string;
  createdAt: string;
}

export function repositoryObject(r: RepositoryFacts, openIssues: number, updatedAt: string): JsonObject {
  const full = `${r.owner}/${r.name}`;
  const url = `${r.api}/repos/${full}`;
  return {
    id: r.id,
    node_id: `R_${Buffer.from(`repo${r.id}`).toString("base64url")}`,
    name: r.name,
    full_name: full,
    private: true,
    owner: userObject(r.api, r.owner, r.ownerId),
    html_url: `${web}/${full}`,
    description: null,
    fork: false,
    url,
    archive_url: `${url}/{archive_format}{/ref}`,
    assignees_url: `${url}/assignees{/user}`,
    blobs_url: `${url}/git/blobs{/sha}`,
    branches_url: `${url}/branches{/branch}`,
    collaborators_url: `${url}/collaborators{/collaborator}`,
    comments_url: `${url}/comments{/number}`,
    commits_url: `${url}/commits{/sha}`,
    compare_url: `${url}/compare/{base}...{head}`,
    contents_url: `${url}/contents/{+path}`,
    contributors_url: `${url}/contributors`,
    deployments_url: `${url}/deployments`,
    downloads_url: `${url}/downloads`,
    events_url: `${url}/events`,
    forks_url: `${url}/forks`,
    git_commits_url: `${url}/git/commits{/sha}`,
    git_refs_url: `${url}/git/refs{/sha}`,
    git_tags_url: `${url}/git/tags{/sha}`,
    git_url: `git://github.com/${full}.git`,
    hooks_url: `${url}/hooks`,
    issue_comment_url: `${url}/issues/comments{/number}`,
    issue_events_url: `${url}/issues/events{/number}`,
    issues_url: `${url}/issues{/number}`,
    keys_url: `${url}/keys{/key_id}`,
    labels_url: `${url}/labels{/name}`,
    languages_url: `${url}/languages`,
    merges_url: `${url}/merges`,
    milestones_url: `${url}/milestones{/number}`,
    notifications_url: `${url}/notifications{?since,all,participating}`,
    pulls_url: `${url}/pulls{/number}`,
    releases_url: `${url}/releases{/id}`,
    ssh_url: `git@github.com:${full}.git`,
    stargazers_url: `${url}/stargazers`,
    statuses_url: `${url}/statuses/{sha}`,
    subscribers_url: `${url}/subscribers`,
    subscription_url: `${url}/subscription`,
    tags_url: `${url}/tags`,
    teams_url: `${url}/teams`,
    trees_url: `${url}/git/trees{/sha}`,
    clone_url: `https://github.com/${full}.git`,
    mirror_url: null,
    svn_url: `https://github.com/${full}`,
    homepage: null,
    language: "TypeScript",
    forks: 0,
    forks_count: 0,
    stargazers_count: 0,
    watchers: 0,
    watchers_count: 0,
    size: 100,
    default_branch: "main",
    open_issues: openIssues,
    open_issues_count: openIssues,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: true,
    has_pages: false,
    has_downloads: true,
    has_discussions: false,
    archived: false,
    disabled: false,
    visibility: "private",
    pushed_at: updatedAt,
    created_at: r.createdAt,
    updated_at: updatedAt,
    license: null,
    network_count: 0,
    subscribers_count: 1,
  };
}

export interface IssueFacts {
  api: string;
  repository: string;
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: "open" | "closed";
  labels: string[];
  user: JsonObject;
  comments: number;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  /** Set for a pull request's issue. */
  pullRequest?: { mergedAt: string | null };
}

export function issueObject(f: IssueFacts): JsonObject {
  const url = `${f.api}/repos/${f.repository}/issues/${f.number}`;
  return {
    url,
    repository_url: `${f.api}/repos/${f.repository}`,
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: `${web}/${f.repository}/${f.pullRequest ? "pull" : "issues"}/${f.number}`,
    id: f.id,
    node_id: `I_${Buffer.from(`issue${f.id}`).toString("base64url")}`,
    number: f.number,
    title: f.title,
    user: f.user,
    labels: f.labels.map((name, i) => labelObject(f.api, f.repository, name, f.id * 100 + i)),
    state: f.state,
    locked: false,
    assignee: null,
    assignees: [],
    milestone: null,
    comments: f.comments,
    created_at: f.createdAt,
    updated_at: f.updatedAt,
    closed_at: f.closedAt,
    author_association: "OWNER",
    active_lock_reason: null,
    ...(f.pullRequest
      ? {
          draft: false,
          pull_request: {
            url: `${f.api}/repos/${f.repository}/pulls/${f.number}`,
            html_url: `${web}/${f.repository}/pull/${f.number}`,
            diff_url: `${web}/${f.repository}/pull/${f.number}.diff`,
            patch_url: `${web}/${f.repository}/pull/${f.number}.patch`,
            merged_at: f.pullRequest.mergedAt,
          },
        }
      : {}),
    body: f.body,
    closed_by: null,
    reactions: reactions(`${url}/reactions`),
    timeline_url: `${url}/timeline`,
    performed_via_github_app: null,
    state_reason: f.state === "closed" ? "completed" : null,
  };
}

function labelObject(api: string, repository: string, name: string, id: number): JsonObject {
  return {
    id,
    node_id: `LA_${Buffer.from(`label${id}`).toString("base64url")}`,
    url: `${api}/repos/${repository}/labels/${encodeURIComponent(name)}`,
    name,
    color: "ededed",
    default: false,
    description: null,
  };
}

function reactions(url: string): JsonObject {
  return {
    url,
    total_count: 0,
    "+1": 0,
    "-1": 0,
    laugh: 0,
    hooray: 0,
    confused: 0,
    heart: 0,
    rocket: 0,
    eyes: 0,
  };
}

export interface PullFacts extends Omit<IssueFacts, "pullRequest" | "comments"> {
  repositoryObject: JsonObject;
  head: string;
  mergedAt: string | null;
}

export function pullObject(f: PullFacts): JsonObject {
  const url = `${f.api}/repos/${f.repository}/pulls/${f.number}`;
  const issue = `${f.api}/repos/${f.repository}/issues/${f.number}`;
  const sha = (ref: string) => Buffer.from(`${ref}:${f.id}`).toString("hex").padEnd(40, "0").slice(0, 40);
  const branch = (ref: string) => ({
    label: `${f.repository.split("/")[0]}:${ref}`,
    ref,
    sha: sha(ref),
    user: f.repositoryObject.owner,
    repo: f.repositoryObject,
  });
  return {
    url,
    id: f.id,
    node_id: `PR_${Buffer.from(`pull${f.id}`).toString("base64url")}`,
    html_url: `${web}/${f.repository}/pull/${f.number}`,
    diff_url: `${web}/${f.repository}/pull/${f.number}.diff`,
    patch_url: `${web}/${f.repository}/pull/${f.number}.patch`,
    issue_url: issue,
    commits_url: `${url}/commits`,
    review_comments_url: `${url}/comments`,
    review_comment_url: `${f.api}/repos/${f.repository}/pulls/comments{/number}`,
    comments_url: `${issue}/comments`,
    statuses_url: `${f.api}/repos/${f.repository}/statuses/${sha(f.head)}`,
    number: f.number,
    state: f.state,
    locked: false,
    title: f.title,
    user: f.user,
    body: f.body,
    labels: f.labels.map((name, i) => labelObject(f.api, f.repository, name, f.id * 100 + i)),
    milestone: null,
    active_lock_reason: null,
    created_at: f.createdAt,
    updated_at: f.updatedAt,
    closed_at: f.closedAt,
    merged_at: f.mergedAt,
    merge_commit_sha: f.mergedAt ? sha("merge") : null,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: branch(f.head),
    base: branch("main"),
    _links: {
      self: { href: url },
      html: { href: `${web}/${f.repository}/pull/${f.number}` },
      issue: { href: issue },
      comments: { href: `${issue}/comments` },
      review_comments: { href: `${url}/comments` },
      review_comment: { href: `${f.api}/repos/${f.repository}/pulls/comments{/number}` },
      commits: { href: `${url}/commits` },
      statuses: { href: `${f.api}/repos/${f.repository}/statuses/${sha(f.head)}` },
    },
    author_association: "OWNER",
    auto_merge: null,
    draft: false,
  };
}

export interface CommentFacts {
  api: string;
  repository: string;
  id: number;
  issueNumber: number;
  body: string;
  user: JsonObject;
  createdAt: string;
  updatedAt: string;
}

export function commentObject(f: CommentFacts): JsonObject {
  const url = `${f.api}/repos/${f.repository}/issues/comments/${f.id}`;
  return {
    url,
    html_url: `${web}/${f.repository}/issues/${f.issueNumber}#issuecomment-${f.id}`,
    issue_url: `${f.api}/repos/${f.repository}/issues/${f.issueNumber}`,
    id: f.id,
    node_id: `IC_${Buffer.from(`comment${f.id}`).toString("base64url")}`,
    user: f.user,
    created_at: f.createdAt,
    updated_at: f.updatedAt,
    author_association: "OWNER",
    body: f.body,
    reactions: reactions(`${url}/reactions`),
    performed_via_github_app: null,
  };
}
