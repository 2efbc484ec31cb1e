import { expect, type Page } from "@playwright/test";
import { mailedLink } from "./mail";

export const password = "correct horse battery";

/** A name nobody has used yet. */
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * The page's WASM has taken over, so clicks run client-side code: the body's mark, and the
 * page heading's own when the page has one (a lazy page hydrates after the body's mark).
 */
export async function hydrated(page: Page) {
  await page.waitForSelector("body[data-hydrated='true']");
  await page.waitForFunction(() => {
    const head = document.querySelector(".page-head[data-ready]");
    return head === null || head.getAttribute("data-ready") === "true";
  });
}

/** A page with a heading has hydrated (its heading's mark). */
export async function pageReady(page: Page) {
  await hydrated(page);
  await page.waitForSelector(".page-head[data-ready='true']");
}

/**
 * A new account named `who` (signed up and confirmed through its mailed link) with a
 * workspace of its own named `workspace`, whose slug starts with `slugPrefix`; answers the
 * slug, on the workspace's overview page.
 */
export async function signUpWithWorkspace(
  page: Page,
  who: string,
  workspace: string,
  slugPrefix: string,
): Promise<string> {
  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("Name").fill(who);
  const email = `${unique(slugPrefix)}@example.com`;
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("mail-sent")).toContainText("Check your e-mail");
  await page.goto(await mailedLink(email, "/verify-email"));
  await hydrated(page);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Confirm and sign in" }).click();
  await expect(page).toHaveURL(/\/workspaces$/);
  // The URL changes as soon as the next page's code is on its way: wait for the page itself.
  await expect(page.getByText("No workspaces yet")).toBeVisible();
  const slug = unique(slugPrefix);
  await hydrated(page);
  await page.getByLabel("Name").fill(workspace);
  await page.getByLabel("Slug").fill(slug);
  await page.getByRole("button", { name: "Create workspace" }).click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}$`));
  return slug;
}
