import { expect, test, type Locator, type Page } from "@playwright/test";
import { hydrated, signUpWithWorkspace } from "./account";

// An editor wants room: a desktop-sized window.
test.use({ viewport: { width: 1600, height: 1000 } });

/** The editor has hydrated (it marks itself; the page-wide mark can come first). */
async function editorReady(page: Page) {
  await expect(page.getByTestId("editor")).toHaveAttribute("data-ready", "true");
}

async function centre(locator: Locator): Promise<{ x: number; y: number }> {
  const box = await locator.boundingBox();
  if (!box) throw new Error("not on the page");
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Drags with the mouse in steps, as a person would. */
async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 });
  await page.mouse.move(to.x, to.y, { steps: 5 });
  await page.mouse.up();
}

/** Drags a kind from the palette to a point of the canvas given as fractions of its size. */
async function addNode(page: Page, kind: string, fx: number, fy: number) {
  const canvas = await page.locator("svg.canvas").boundingBox();
  if (!canvas) throw new Error("no canvas");
  await drag(page, await centre(page.locator(`.palette-item[data-kind='${kind}']`)), {
    x: canvas.x + canvas.width * fx,
    y: canvas.y + canvas.height * fy,
  });
}

function port(page: Page, node: string, direction: "in" | "out"): Locator {
  return page.locator(`g[data-node='${node}'] circle.port.${direction}`).first();
}

async function connect(page: Page, from: string, to: string) {
  await drag(page, await centre(port(page, from, "out")), await centre(port(page, to, "in")));
}

test("build manual → merge → script → output by dragging, refuse a cycle, mark a syntax error, save, run and watch it paint", async ({ page }) => {
  const slug = await signUpWithWorkspace(page, "Pia Pipeline", "Flow Lab", "flow-");
  await page.getByRole("link", { name: "Pipelines", exact: true }).click();
  await expect(page.getByText("No pipelines yet")).toBeVisible();
  await hydrated(page);
  await page.getByLabel("Name").fill("Greeter");
  await page.getByRole("button", { name: "Create pipeline" }).click();
  await editorReady(page);
  await expect(page.locator("g[data-node='start']")).toBeVisible();
  await expect(page.locator("g[data-node='result']")).toBeVisible();

  // Undo a deletion: the output goes with Delete and comes back with Ctrl+Z.
  await page.locator("g[data-node='result'] rect.node-box").click();
  await page.keyboard.press("Delete");
  await expect(page.locator("g[data-node='result']")).toHaveCount(0);
  await expect(page.locator("g[data-edge]")).toHaveCount(0);
  await page.keyboard.press("Control+z");
  await expect(page.locator("g[data-node='result']")).toBeVisible();
  await expect(page.locator("g[data-edge]")).toHaveCount(1);

  // Take the edge out, then build start → merge → script → result from the palette.
  // (A straight edge has no height, so click halfway between its ports.)
  const a = await centre(port(page, "start", "out"));
  const b = await centre(port(page, "result", "in"));
  await page.mouse.click((a.x + b.x) / 2, (a.y + b.y) / 2);
  await expect(page.locator("g[data-edge='0']")).toHaveClass(/selected/);
  await page.keyboard.press("Delete");
  await expect(page.locator("g[data-edge]")).toHaveCount(0);
  await addNode(page, "merge", 0.3, 0.85);
  await expect(page.locator("g[data-node='merge']")).toBeVisible();
  await addNode(page, "script", 0.65, 0.85);
  await expect(page.locator("g[data-node='script']")).toBeVisible();
  await connect(page, "start", "merge");
  await connect(page, "merge", "script");
  await connect(page, "script", "result");
  await expect(page.locator("g[data-edge]")).toHaveCount(3);
  await expect(page.getByTestId("problems")).toContainText("No problems");

  // A cycle is refused while it is drawn: the merge's input is marked and nothing is added.
  const from = await centre(port(page, "script", "out"));
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  const target = await centre(port(page, "merge", "in"));
  await page.mouse.move(target.x - 30, target.y, { steps: 5 });
  await expect(port(page, "merge", "in")).toHaveClass(/no-drop/);
  await page.mouse.move(target.x, target.y, { steps: 3 });
  await page.mouse.up();
  await expect(page.getByTestId("editor-said")).toContainText("cycle");
  await expect(page.locator("g[data-edge]")).toHaveCount(3);

  // A syntax error is marked at its line before anything runs.
  await page.locator("g[data-node='script'] rect.node-box").click();
  const source = page.getByTestId("script-editor").locator("textarea");
  await source.fill("export default function main(input, ctx) {\n  return input +;\n}\n");
  await page.locator("g[data-node='start'] rect.node-box").click();
  await page.locator("g[data-node='script'] rect.node-box").click();
  await expect(page.getByTestId("script-editor").locator(".line.error")).toHaveText("2");
  await expect(page.getByTestId("field-problem")).toContainText("line 2");
  await expect(page.locator("g[data-node='script']")).toHaveClass(/has-problem/);

  await source.fill("export default function main(input, ctx) {\n  ctx.log('greeting ' + input.start.name);\n  return { greeting: 'hello ' + input.start.name };\n}\n");
  await page.locator("g[data-node='start'] rect.node-box").click();
  await expect(page.getByTestId("problems")).toContainText("No problems");
  await page.getByTestId("save").click();
  await expect(page.getByTestId("editor-said")).toContainText("Saved version 2");
  await expect(page.getByTestId("version")).toHaveText("v2");

  // Run it with an input and watch the nodes turn to succeeded.
  await page.getByTestId("open-run").click();
  await page.getByTestId("run-input").fill('{"name": "Ada"}');
  await page.getByTestId("start-run").click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/pipelines/[^/]+/runs/[^/]+$`));
  await expect(page.getByTestId("run-status")).toHaveText("succeeded");
  await expect(page.getByTestId("run-output")).toContainText("hello Ada");
  for (const node of ["merge", "script", "result"]) {
    await expect(page.locator(`g[data-node='${node}']`)).toHaveClass(/status-succeeded/);
  }
  await page.locator("g[data-node='script'] rect.node-box").click();
  await expect(page.getByTestId("node-logs")).toHaveText("greeting Ada");
  await expect(page.getByTestId("node-output")).toContainText("hello Ada");
});

test("a webhook starts a run that paints live", async ({ page }) => {
  const slug = await signUpWithWorkspace(page, "Wendy Webhook", "Flow Lab", "flow-");
  const graph = {
    nodes: [
      { id: "hook", kind: "webhook", config: {}, position: { x: 40, y: 80 } },
      {
        id: "slow",
        kind: "script",
        config: { source: "export default (x) => { const end = Date.now() + 5000; while (Date.now() < end) {} return { seen: x.name } }" },
        position: { x: 320, y: 80 },
      },
      { id: "done", kind: "output", config: {}, position: { x: 600, y: 80 } },
    ],
    edges: [
      { from: { node: "hook", port: "out" }, to: { node: "slow", port: "in" } },
      { from: { node: "slow", port: "out" }, to: { node: "done", port: "in" } },
    ],
  };
  const headers = { origin: new URL(page.url()).origin };
  const created = await page.request.post(`/api/v1/workspaces/${slug}/pipelines`, { data: { name: "Hooked", graph }, headers });
  expect(created.status()).toBe(201);
  const { id } = await created.json();
  const pipeline = await (await page.request.get(`/api/v1/workspaces/${slug}/pipelines/${id}`)).json();
  const hookPath = new URL(pipeline.triggers[0].url).pathname;
  // Another system calls the webhook (no session).
  const answer = await page.request.fetch(hookPath, { method: "POST", data: { name: "Grace" }, headers: { cookie: "" } });
  expect(answer.status()).toBe(202);
  const { run_id } = await answer.json();

  await page.goto(`/w/${slug}/pipelines/${id}/runs/${run_id}`);
  await hydrated(page);
  // The slow node is painted running, then the run and every node succeed without a reload.
  await expect(page.locator("g[data-node='slow']")).toHaveClass(/status-running/);
  await expect(page.getByTestId("run-status")).toHaveText("succeeded", { timeout: 20_000 });
  await expect(page.locator("g[data-node='done']")).toHaveClass(/status-succeeded/);
  await expect(page.getByTestId("run-output")).toContainText("Grace");

  // The run is in the pipeline's history.
  await page.goto(`/w/${slug}/pipelines/${id}`);
  await editorReady(page);
  await page.getByRole("button", { name: "Runs", exact: true }).click();
  await expect(page.locator(".run-list li")).toHaveCount(1);
  await expect(page.locator(".run-list li")).toContainText("webhook");
});
