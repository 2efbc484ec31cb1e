import { expect, test, type Page } from "@playwright/test";
import { hydrated, password, unique } from "./account";
import { mailedLink } from "./mail";

/** Signs up through the form, then follows the verification link mailed to `email`. */
async function signUp(page: Page, name: string, email: string, next?: string) {
  await page.goto(next ? `/signup?next=${encodeURIComponent(next)}` : "/signup");
  await hydrated(page);
  await page.getByLabel("Name").fill(name);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("mail-sent")).toContainText("Check your e-mail");
  await expect(page.getByTestId("mail-sent")).toContainText(email);
  await page.goto(await mailedLink(email, "/verify-email"));
  await hydrated(page);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Confirm and sign in" }).click();
}

test("signed-out visitors are sent to the login page", async ({ page }) => {
  await page.goto("/workspaces");
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole("heading", { name: "Log in" })).toBeVisible();
});

test("signed-out pages answer real redirects, and an unknown invitation answers 404", async ({ request }) => {
  // A monitor (no cookie, `Accept: */*`) must see what a browser sees: a redirect, not a 401.
  const root = await request.get("/", { maxRedirects: 0 });
  expect(root.status()).toBe(302);
  expect(root.headers()["location"]).toBe("/login");
  const workspaces = await request.get("/workspaces", { maxRedirects: 0 });
  expect(workspaces.status()).toBe(302);
  expect(workspaces.headers()["location"]).toBe("/login?next=/workspaces");
  const login = await request.get("/login");
  expect(login.status()).toBe(200);
  const invitation = await request.get("/invitations/no-such-token", { maxRedirects: 0 });
  expect(invitation.status()).toBe(404);
  expect(await invitation.text()).toContain("Invitation unavailable");
});

test("inline validation uses the shared rules before anything is sent", async ({ page }) => {
  await page.goto("/signup");
  await hydrated(page);
  const email = page.getByLabel("E-mail");
  await email.fill("not-an-email");
  await email.blur();
  await expect(page.getByText("must be an e-mail address like name@example.com")).toBeVisible();
  const pw = page.getByLabel("Password");
  await pw.fill("short");
  await pw.blur();
  await expect(page.getByText("must be at least 10 characters")).toBeVisible();
});

test("owner invites a viewer, promotes them, manages an API key and renames the workspace", async ({ browser, page, request }) => {
  const ownerEmail = `${unique("owner")}@example.com`;
  await signUp(page, "Olive Owner", ownerEmail);
  await expect(page).toHaveURL(/\/workspaces$/);
  await expect(page.getByText("No workspaces yet")).toBeVisible();

  // Create a workspace: a reserved slug is refused inline (hydration works), a good one opens it.
  const slug = unique("ws-");
  await hydrated(page);
  await page.getByLabel("Name").fill("Acme Platform");
  const slugField = page.getByLabel("Slug");
  await slugField.fill("admin");
  await slugField.blur();
  await expect(page.getByText("is reserved; choose another")).toBeVisible();
  await slugField.fill(slug);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}$`));
  await expect(page.getByRole("heading", { name: "Acme Platform" })).toBeVisible();
  await expect(page.getByTestId("member-count")).toHaveText("1");

  // A reload keeps the session.
  await page.reload();
  await expect(page.getByRole("heading", { name: "Acme Platform" })).toBeVisible();

  // Invite a viewer and take the link.
  await page.getByRole("link", { name: "Members" }).first().click();
  await expect(page.getByRole("heading", { name: "Members" })).toBeVisible();
  await hydrated(page);
  const inviteeEmail = `${unique("viewer")}@example.com`;
  await page.getByLabel("E-mail").fill(inviteeEmail);
  await page.locator("#invite-role").selectOption("viewer");
  await page.getByRole("button", { name: "Create invitation" }).click();
  const link = page.getByTestId("invitation-link").locator("code");
  await expect(link).toContainText("/invitations/");
  const url = new URL((await link.textContent()) ?? "");
  // The form starts over for the next invitation.
  await expect(page.getByLabel("E-mail")).toHaveValue("");

  // A signed-out visitor following the link gets the page (200), not a 401.
  const signedOut = await request.get(url.pathname, { maxRedirects: 0 });
  expect(signedOut.status()).toBe(200);
  expect(await signedOut.text()).toContain("Sign in or create an account to accept.");

  // The invitee opens the link signed out, signs up from it and joins as viewer.
  const other = await browser.newContext();
  const invitee = await other.newPage();
  await invitee.goto(url.pathname);
  await expect(invitee.getByRole("heading", { name: "Join Acme Platform" })).toBeVisible();
  await invitee.getByRole("link", { name: "Create account" }).click();
  await expect(invitee).toHaveURL(/\/signup\?next=/);
  await signUp(invitee, "Vera Viewer", inviteeEmail, url.pathname);
  await expect(invitee).toHaveURL(new RegExp(url.pathname));
  await hydrated(invitee);
  await invitee.getByRole("button", { name: "Accept invitation" }).click();
  await expect(invitee).toHaveURL(new RegExp(`/w/${slug}$`));
  await expect(invitee.getByTestId("member-count")).toHaveText("2");

  // The viewer sees no admin actions.
  await expect(invitee.getByRole("link", { name: "API keys" })).toHaveCount(0);
  await expect(invitee.getByRole("link", { name: "Settings" })).toHaveCount(0);
  await invitee.getByRole("link", { name: "Members" }).first().click();
  await expect(invitee.getByTestId("members")).toContainText(ownerEmail);
  await expect(invitee.getByTestId("members").getByRole("combobox")).toHaveCount(0);
  await expect(invitee.getByRole("button", { name: "Remove" })).toHaveCount(0);
  await expect(invitee.getByRole("button", { name: "Create invitation" })).toHaveCount(0);

  // The owner promotes the viewer to developer.
  await page.reload();
  await hydrated(page);
  const row = page.getByTestId("members").getByRole("row", { name: /Vera Viewer/ });
  await expect(row).toContainText(inviteeEmail);
  await row.getByRole("combobox").selectOption("developer");
  await row.getByRole("button", { name: "Save" }).click();
  await expect(page.getByTestId("members").getByRole("row", { name: /Vera Viewer/ }).getByRole("combobox")).toHaveValue("developer");
  await page.reload();
  await expect(page.getByTestId("members").getByRole("row", { name: /Vera Viewer/ }).getByRole("combobox")).toHaveValue("developer");
  await other.close();

  // An API key: shown once, works on the REST API, then revoked and refused.
  await page.getByRole("link", { name: "API keys" }).click();
  await expect(page.getByText("No API keys")).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Name").fill("CI deploys");
  await page.getByRole("button", { name: "Create key" }).click();
  const secret = page.getByTestId("new-key-secret");
  await expect(secret).toContainText("sy_");
  const key = ((await secret.textContent()) ?? "").trim();
  await expect(page.getByTestId("api-keys")).toContainText("CI deploys");
  await expect(page.getByLabel("Name")).toHaveValue("");
  const members = await page.request.get(`/api/v1/workspaces/${slug}/members`, { headers: { Authorization: `Bearer ${key}` } });
  expect(members.status()).toBe(200);
  const emails = (await members.json()).map((m: { email: string }) => m.email).sort();
  expect(emails).toEqual([inviteeEmail, ownerEmail].sort());
  await page.reload();
  await expect(page.getByTestId("new-key")).toHaveCount(0);
  await hydrated(page);

  // Revoking asks first; Escape (or Cancel) backs out and nothing is revoked.
  await page.getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByText("Revoke this key?")).toBeVisible();
  await expect(page.getByRole("button", { name: "Confirm" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(page.getByRole("button", { name: "Revoke" })).toBeFocused();
  await expect(page.getByTestId("api-keys")).toContainText("CI deploys");
  await page.getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByText("Revoke this key?")).toHaveCount(0);
  await expect(page.getByTestId("api-keys")).toContainText("CI deploys");
  await page.getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByText("No API keys")).toBeVisible();
  const refused = await page.request.get(`/api/v1/workspaces/${slug}/members`, { headers: { Authorization: `Bearer ${key}` } });
  expect(refused.status()).toBe(401);

  // A rename shows in the side navigation at once.
  await page.getByRole("link", { name: "Settings" }).click();
  await hydrated(page);
  const sidebarName = page.getByTestId("sidebar-workspace");
  await expect(sidebarName).toHaveText("Acme Platform");
  await page.getByLabel("Display name").fill("Acme Platform Two");
  await page.getByRole("button", { name: "Save" }).click();
  await expect(page.getByText("Saved.")).toBeVisible();
  await expect(sidebarName).toHaveText("Acme Platform Two");
});

test("password change signs out other sessions; log out and back in", async ({ browser, page }) => {
  const email = `${unique("acct")}@example.com`;
  await signUp(page, "Alex Account", email);
  await expect(page).toHaveURL(/\/workspaces$/);

  const second = await browser.newContext();
  const elsewhere = await second.newPage();
  await elsewhere.goto("/login");
  await hydrated(elsewhere);
  await elsewhere.getByLabel("E-mail").fill(email);
  await elsewhere.getByLabel("Password").fill(password);
  await elsewhere.getByRole("button", { name: "Log in" }).click();
  await expect(elsewhere).toHaveURL(/\/workspaces$/);

  await page.goto("/account");
  await hydrated(page);
  await expect(page.getByTestId("sessions").locator("li")).toHaveCount(2);
  await page.getByLabel("Current password").fill("wrong password!!");
  await page.getByLabel("New password").fill("an even better password");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("is not your current password")).toBeVisible();
  await page.getByLabel("Current password").fill(password);
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed.")).toBeVisible();
  await expect(page.getByTestId("sessions").locator("li")).toHaveCount(1);

  await elsewhere.goto("/workspaces");
  await expect(elsewhere).toHaveURL(/\/login/);
  await second.close();

  await page.getByRole("button", { name: "Log out" }).click();
  await expect(page).toHaveURL(/\/login/);
  await hydrated(page);
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill("an even better password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/workspaces$/);
});

test("run a test job and watch its log live; cancel a hanging one; the pool is online", async ({ page }) => {
  await signUp(page, "Jo Jobs", `${unique("jobs")}@example.com`);
  await expect(page).toHaveURL(/\/workspaces$/);
  // The URL changes as soon as the next page's code is on its way: wait for the page itself.
  await expect(page.getByText("No workspaces yet")).toBeVisible();
  const slug = unique("jobs-");
  await hydrated(page);
  await page.getByLabel("Name").fill("Jobs Lab");
  await page.getByLabel("Slug").fill(slug);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}$`));

  // Run a diagnostic job: its lines arrive while it runs, and its status follows.
  await page.getByRole("link", { name: "Jobs", exact: true }).click();
  await expect(page.getByText("No jobs")).toBeVisible();
  await expect(page.getByTestId("queues")).toContainText("default");
  await expect(page.getByTestId("queues")).toContainText("normal");
  await hydrated(page);

  // A bad number is caught in the browser, with a message that names the field.
  await page.getByLabel("Lines").fill("-1");
  await page.getByLabel("Lines").blur();
  await expect(page.getByText("lines must be a whole number from 0 to 10000")).toBeVisible();
  await page.getByLabel("Lines").fill("5");
  await page.getByLabel("Seconds").fill("4");
  await page.getByRole("button", { name: "Run test job" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/jobs/[0-9a-f-]{36}$`));
  await hydrated(page);
  const log = page.getByTestId("job-log");
  await expect(log).toContainText("diagnostic line 1 of 5");
  await expect(log).not.toContainText("diagnostic line 5 of 5");
  await expect(log).toContainText("diagnostic line 5 of 5");
  await expect(page.getByTestId("job-status")).toHaveText("succeeded");
  await expect(page.getByTestId("job-attempts")).toHaveText("1 / 5");

  // A hanging job is cancelled from the console.
  await page.getByRole("link", { name: "Jobs", exact: true }).click();
  await expect(page.getByTestId("jobs")).toContainText("succeeded");
  await hydrated(page);
  await page.getByLabel("Lines").fill("1");
  await page.getByLabel("Seconds").fill("0");
  await page.getByLabel("Hang until cancelled").check();
  await page.getByRole("button", { name: "Run test job" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/jobs/[0-9a-f-]{36}$`));
  await hydrated(page);
  await expect(page.getByTestId("job-log")).toContainText("hanging until cancelled");
  await expect(page.getByTestId("job-status")).toHaveText("running");
  await page.getByRole("button", { name: "Cancel job" }).click();
  await expect(page.getByTestId("job-status")).toHaveText("cancelled");
  await expect(page.getByTestId("job-log")).toContainText("cancelled while hanging");
  await expect(page.getByRole("button", { name: "Retry" })).toBeVisible();

  // Leaving a job page opens no WebSocket on the way out.
  const opened: string[] = [];
  page.on("websocket", (ws) => opened.push(ws.url()));
  await page.getByRole("link", { name: "Jobs", exact: true }).click();
  await expect(page.getByTestId("jobs")).toContainText("cancelled");
  expect(opened).toEqual([]);

  // The list follows a job that is still running, without a reload.
  await page.getByLabel("Lines").fill("3");
  await page.getByLabel("Seconds").fill("4");
  await page.getByRole("button", { name: "Run test job" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/jobs/[0-9a-f-]{36}$`));
  const jobId = page.url().split("/").pop() ?? "";
  await expect(page.getByTestId("job-log")).toBeVisible();
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await page.getByRole("link", { name: "Jobs", exact: true }).click();
  const jobRow = page.getByTestId("jobs").getByRole("row", { name: new RegExp(jobId.slice(0, 8)) });
  await expect(jobRow.getByTestId("job-status")).toHaveText(/queued|running/);
  await expect(jobRow.getByTestId("job-status")).toHaveText("succeeded", { timeout: 20_000 });
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);

  // On a phone the job table scrolls inside its box; the page itself does not get wider.
  await page.setViewportSize({ width: 375, height: 800 });
  await expect(page.getByTestId("jobs")).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
  await page.setViewportSize({ width: 1280, height: 720 });

  // The in-process pool is online.
  await page.getByRole("link", { name: "Workers", exact: true }).click();
  const workers = page.getByTestId("workers");
  await expect(workers).toContainText("default");
  await expect(workers).toContainText("online");
});

test("an admin sets, replaces and deletes a secret; its value never comes back", async ({ page, request }) => {
  await signUp(page, "Sam Secrets", `${unique("secrets")}@example.com`);
  await expect(page.getByText("No workspaces yet")).toBeVisible();
  const slug = unique("sec-");
  await hydrated(page);
  await page.getByLabel("Name").fill("Vault");
  await page.getByLabel("Slug").fill(slug);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}$`));

  await page.getByRole("link", { name: "Secrets", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Secrets" })).toBeVisible();
  await expect(page.getByText("No secrets")).toBeVisible();
  await hydrated(page);

  // A bad name is caught in the browser by the shared rule.
  const name = page.getByLabel("Name");
  await name.fill("github-token");
  await name.blur();
  await expect(page.getByText(/name must be 1-64 capital letters/)).toBeVisible();

  await name.fill("GITHUB_TOKEN");
  await page.getByLabel("Value").fill("ghp_top_secret_value");
  await page.getByRole("button", { name: "Save secret" }).click();
  await expect(page.getByTestId("secrets")).toContainText("GITHUB_TOKEN");
  // The form is emptied, and the value is nowhere in the page or in a fresh load.
  await expect(page.getByLabel("Value")).toHaveValue("");
  expect(await page.content()).not.toContain("ghp_top_secret_value");
  await page.reload();
  await expect(page.getByTestId("secrets")).toContainText("GITHUB_TOKEN");
  expect(await page.content()).not.toContain("ghp_top_secret_value");

  // Delete asks first.
  await hydrated(page);
  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByText("Delete this secret?")).toBeVisible();
  await page.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByText("No secrets")).toBeVisible();
});

test("a forgotten password is reset from the mailed link, and the old one stops working", async ({ page, request }) => {
  const email = `${unique("forgetful")}@example.com`;
  await signUp(page, "Fay Forgetful", email);
  await expect(page).toHaveURL(/\/workspaces$/);
  await page.context().clearCookies();

  await page.goto("/login");
  await hydrated(page);
  await page.getByRole("link", { name: "Forgot your password?" }).click();
  await expect(page.getByRole("heading", { name: "Reset your password" })).toBeVisible();
  await hydrated(page);
  await page.getByLabel("E-mail").fill(email);
  await page.getByRole("button", { name: "Send reset link" }).click();
  await expect(page.getByTestId("mail-sent")).toContainText("If an account uses this address");

  await page.goto(await mailedLink(email, "/reset-password"));
  await hydrated(page);
  await page.getByLabel("New password").fill("a whole new password");
  await page.getByRole("button", { name: "Set password and sign in" }).click();
  await expect(page).toHaveURL(/\/workspaces$/);
  await expect(page.getByText("No workspaces yet")).toBeVisible();

  const old = await request.post("/api/v1/auth/login", { data: { email, password } });
  expect(old.status()).toBe(401);
  const fresh = await request.post("/api/v1/auth/login", { data: { email, password: "a whole new password" } });
  expect(fresh.status()).toBe(200);
});
