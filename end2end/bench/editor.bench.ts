import { expect, test, type Page } from "@playwright/test";
import { mailedLink } from "../tests/mail";

// `make bench`: the pipeline editor in Chromium with a 200-node graph — the time from
// navigation to the graph drawn and interactive, and the frame times while a node is
// dragged across the canvas. Prints figures; asserts only that the page works.

const password = "correct horse battery";
const NODES = 200;

test.use({ viewport: { width: 1600, height: 1000 } });

async function hydrated(page: Page) {
  await page.waitForSelector("body[data-hydrated='true']");
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.round((sorted.length - 1) * p))];
}

test("editor with 200 nodes: render time and frame times while dragging", async ({ page }) => {
  test.setTimeout(180_000);
  const email = `bench${Date.now().toString(36)}@example.com`;
  await page.goto("/signup");
  await hydrated(page);
  await page.getByLabel("Name").fill("Bench");
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page.getByTestId("mail-sent")).toBeVisible();
  await page.goto(await mailedLink(email, "/verify-email"));
  await hydrated(page);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Confirm and sign in" }).click();
  await expect(page.getByText("No workspaces yet")).toBeVisible();
  const slug = `bench-${Date.now().toString(36)}`;
  const origin = new URL(page.url()).origin;
  const ws = await page.request.post("/api/v1/workspaces", { data: { slug, name: "Bench" }, headers: { origin } });
  expect(ws.status()).toBe(201);

  // A chain of 200 nodes in a grid of 20 columns.
  const nodes = [{ id: "start", kind: "manual", config: {}, position: { x: 0, y: 0 } }];
  const edges = [];
  for (let i = 1; i < NODES; i++) {
    nodes.push({ id: `n${i}`, kind: "set", config: { fields: { i } }, position: { x: (i % 20) * 220, y: Math.floor(i / 20) * 100 } } as never);
    edges.push({ from: { node: i === 1 ? "start" : `n${i - 1}`, port: "out" }, to: { node: `n${i}`, port: "in" } });
  }
  const created = await page.request.post(`/api/v1/workspaces/${slug}/pipelines`, {
    data: { name: "Two hundred", graph: { nodes, edges } },
    headers: { origin },
  });
  expect(created.status()).toBe(201);
  const { id } = await created.json();

  const started = Date.now();
  await page.goto(`/w/${slug}/pipelines/${id}`);
  // Interactive: the editor marks itself once it has hydrated.
  await expect(page.getByTestId("editor")).toHaveAttribute("data-ready", "true", { timeout: 60_000 });
  await expect(page.locator("g[data-node]")).toHaveCount(NODES);
  const renderMs = Date.now() - started;

  // Frame times while dragging one node 400 px in 120 steps.
  await page.evaluate(() => {
    const w = window as unknown as { frames_: number[]; stop_: boolean };
    w.frames_ = [];
    w.stop_ = false;
    let last = performance.now();
    const tick = (now: number) => {
      w.frames_.push(now - last);
      last = now;
      if (!w.stop_) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  const box = await page.locator("g[data-node='n25'] rect.node-box").boundingBox();
  if (!box) throw new Error("node not drawn");
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + 400, y + 150, { steps: 120 });
  await page.mouse.up();
  const frames: number[] = await page.evaluate(() => {
    const w = window as unknown as { frames_: number[]; stop_: boolean };
    w.stop_ = true;
    return w.frames_.slice(1);
  });
  const sorted = [...frames].sort((a, b) => a - b);
  console.log(`\nPipeline editor, ${NODES} nodes, Chromium (headless)\n`);
  console.log(`render: navigation to ${NODES} nodes drawn and interactive   ${renderMs} ms`);
  console.log(`drag: ${frames.length} frames, p50 ${percentile(sorted, 0.5).toFixed(1)} ms, p95 ${percentile(sorted, 0.95).toFixed(1)} ms, max ${sorted[sorted.length - 1]?.toFixed(1)} ms (60 fps = 16.7 ms)`);
});
