import { expect, test, type Page } from "@playwright/test";
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { hydrated, signUpWithWorkspace } from "./account";

/** A git repository under the system temp directory (`make e2e` allows server paths there). */
function makeRepo(): string {
  // Under the server's allowed root (`make e2e` sets both).
  const root = process.env.E2E_REPOS ?? join(tmpdir(), "sy-e2e-repos");
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, "repo-"));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write(
    "billing/tax.py",
    'RATE = 0.2\n\n\ndef vat(amount):\n    """Value added tax owed on an amount."""\n    return amount * RATE\n',
  );
  write(
    "billing/invoice.py",
    'from billing.tax import vat\n\n\ndef invoice_total(lines):\n    """Sum the invoice lines and add value added tax."""\n    net = sum(line.price for line in lines)\n    return net + vat(net)\n',
  );
  // Enough other code that the index run takes a moment to watch.
  for (let i = 0; i < 40; i++) {
    write(
      `shapes/shape${i}.ts`,
      `/** Area of shape number ${i}. */\nexport function area${i}(w: number, h: number): number {\n  return w * h * ${i};\n}\n`,
    );
  }
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.email=e2e@example.com", "-c", "user.name=e2e", "-c", "commit.gpgsign=false", ...args], { cwd: dir });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-q", "-m", "first");
  return dir;
}

test("add a repository, watch it index, search, open a symbol, follow a caller", async ({ page }) => {
  const repo = makeRepo();
  const slug = await signUpWithWorkspace(page, "Cody Coder", "Code Lab", "code-");

  // Add the repository; its run shows as a live progress bar until it is ready.
  await page.getByRole("link", { name: "Repositories", exact: true }).click();
  await expect(page.getByText("No repositories")).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Git URL").fill("ftp://example.com/nope");
  await page.getByRole("button", { name: "Add and index" }).click();
  await expect(page.getByText("url must be an https://")).toBeVisible();
  await page.getByLabel("Git URL").fill(`file://${repo}`);
  await page.getByRole("button", { name: "Add and index" }).click();
  const row = page.getByTestId("repository");
  await expect(row).toContainText(repo);
  await expect(row.getByTestId("index-progress")).toBeVisible();
  await expect(row.getByTestId("repo-status")).toHaveText("ready", { timeout: 120_000 });
  await expect(row.getByTestId("repo-counts")).toHaveText("42 files · 42 symbols · 42 chunks");

  // Search semantically; the hit is highlighted code.
  await page.getByRole("link", { name: "Code search", exact: true }).click();
  await hydrated(page);
  await page.getByLabel("Query").fill("how much tax is owed");
  await page.getByRole("button", { name: "Search" }).click();
  const first = page.getByTestId("search-result").first();
  await expect(first).toContainText("vat");
  await expect(first).toContainText("billing/tax.py:4-6");
  await expect(first.locator(".tok-kw").first()).toHaveText("def");

  // Open the symbol by a link (client-side navigation: the page is not reloaded), then
  // follow its caller. The call graph's boxes are drawn as SVG, so they have a size.
  await hydrated(page);
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await first.getByRole("link", { name: "vat" }).click();
  await expect(page.getByTestId("symbol-name")).toHaveText("vat");
  await expect(page.getByTestId("signature")).toHaveText("def vat(amount)");
  await expect(page.getByTestId("symbol-doc")).toHaveText("Value added tax owed on an amount.");
  await expect(page.getByTestId("call-graph")).toContainText("invoice_total");
  await expectGraphNode(page, "invoice_total");
  await page.getByTestId("callers").getByRole("link", { name: "invoice_total" }).click();
  await expect(page.getByTestId("symbol-name")).toHaveText("invoice_total");
  await expect(page.getByTestId("callees")).toContainText("vat");
  await expect(page.getByTestId("code")).toContainText("return net + vat(net)");
  await expectGraphNode(page, "vat");
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
});

/** The call graph shows a box for `name` that is visible and has a size (an SVG `<rect>`
 *  created in the HTML namespace would measure 0×0). */
async function expectGraphNode(page: Page, name: string) {
  const node = page.getByTestId("call-graph").getByTestId("graph-node").filter({ hasText: name }).first();
  const box = node.locator("rect");
  await expect(box).toBeVisible();
  const size = await box.boundingBox();
  expect(size?.width ?? 0).toBeGreaterThan(0);
  expect(size?.height ?? 0).toBeGreaterThan(0);
}
