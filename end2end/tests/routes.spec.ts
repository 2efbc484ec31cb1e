import { expect, test, type Page } from "@playwright/test";
import { pageReady, signUpWithWorkspace } from "./account";

const gateway = `http://127.0.0.1:${process.env.E2E_GATEWAY_PORT ?? "3180"}`;

/** Sends a request from the console's form and answers the answer's body element. */
async function send(page: Page, path: string) {
  await page.locator("#try-path").fill(path);
  await page.getByTestId("send").click();
  return page.getByTestId("answer");
}

async function deploy(page: Page, slug: string, version: number) {
  await page.goto(`/w/${slug}/deploys`);
  await pageReady(page);
  await page.getByTestId("deploy").click();
  await expect(page.getByTestId("deployed")).toHaveText(`Version ${version} is live.`);
}

test("draft a script route, see it refused before its deploy, deploy, call it, change it, roll back", async ({ page, request }) => {
  const slug = await signUpWithWorkspace(page, "Gus Gateway", "Gateway Lab", "gw-");
  await page.getByRole("link", { name: "Routes", exact: true }).click();
  await expect(page.getByText("No routes yet")).toBeVisible();
  await expect(page.getByTestId("pending")).toHaveText("Nothing is deployed yet.");
  await pageReady(page);

  // A bad pattern is refused with a message on the path field; nothing is saved.
  await page.locator("#field-path").fill("hello");
  await page.getByRole("button", { name: "Add route" }).click();
  await expect(page.locator("#field-path-message")).toContainText("/");
  await expect(page.getByText("No routes yet")).toBeVisible();

  // A script route: a draft, one undeployed change, not served yet.
  await page.locator("#field-path").fill("/hello/{name}");
  await page.locator("#field-kind").selectOption("script");
  await page.locator("#field-source").fill("export default (req) => ({ status: 200, body: { hello: req.params.name } })");
  await page.getByRole("button", { name: "Add route" }).click();
  const routes = page.getByTestId("routes");
  await expect(routes).toContainText("/hello/{name}");
  await expect(routes).toContainText("draft");
  await expect(page.getByTestId("pending")).toContainText("1 undeployed change");
  let answer = await send(page, "/hello/ada");
  await expect(answer.getByTestId("answer-status")).toHaveText("404");

  // The plan names the route; deploying makes version 1 live.
  await page.getByRole("link", { name: "Review the plan and deploy" }).click();
  await expect(page.getByTestId("plan-changes")).toContainText("+ add route GET /hello/{name}");
  await pageReady(page);
  await page.getByTestId("deploy").click();
  await expect(page.getByTestId("deployed")).toHaveText("Version 1 is live.");
  await expect(page.getByTestId("deploys")).toContainText("v1");
  await expect(page.getByTestId("deploys")).toContainText("Gus Gateway");
  await expect(page.getByTestId("plan-empty")).toBeVisible();

  // Live: from the console's form, and from outside through the gateway's own listener.
  await page.getByRole("link", { name: "Routes", exact: true }).click();
  await expect(page.getByTestId("pending")).toHaveText("Everything is deployed: version 1 is live.");
  await expect(routes).toContainText("live");
  await pageReady(page);
  answer = await send(page, "/hello/ada");
  await expect(answer.getByTestId("answer-status")).toHaveText("200");
  await expect(answer.getByTestId("answer-body")).toHaveText('{"hello":"ada"}');
  const outside = await request.get(`${gateway}/t/${slug}/hello/grace`);
  expect(outside.status()).toBe(200);
  expect(await outside.json()).toEqual({ hello: "grace" });

  // Change it: the draft differs until version 2 is deployed, field by field in the plan.
  await routes.getByRole("link", { name: "/hello/{name}" }).click();
  await expect(page.getByTestId("route-state")).toHaveText("Live as shown.");
  await pageReady(page);
  // Its last hour: both requests to it (from the console and from outside), each with an
  // access line in its log.
  await expect(async () => {
    await page.getByRole("button", { name: "Refresh" }).click();
    await expect(page.getByTestId("route-log")).toContainText("GET /hello/grace → 200 in", { timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(page.getByTestId("route-log")).toContainText("GET /hello/ada → 200 in");
  await expect(page.getByTestId("route-activity-summary")).toContainText("2 request(s) in the last hour");
  await expect(page.getByTestId("route-activity-chart").locator("rect")).not.toHaveCount(0);
  await page.locator("#field-source").fill("export default (req) => ({ status: 200, body: { hola: req.params.name } })");
  await page.getByRole("button", { name: "Save draft" }).click();
  await expect(page.getByTestId("route-state")).toContainText("Draft");
  await page.goto(`/w/${slug}/deploys`);
  await expect(page.getByTestId("plan-changes")).toContainText("~ change route GET /hello/{name}");
  await expect(page.getByTestId("plan-changes")).toContainText("handler.source");
  await deploy(page, slug, 2);
  expect(await (await request.get(`${gateway}/t/${slug}/hello/ada`)).json()).toEqual({ hola: "ada" });

  // Roll back to version 1: a new deploy (3) of its manifest; the gateway answers as before.
  const first = page.getByTestId("deploys").locator("tr", { hasText: "v1" });
  await first.getByRole("button", { name: "Roll back" }).click();
  await first.getByRole("button", { name: "Confirm" }).click();
  await expect(page.getByTestId("rolled-back")).toHaveText("Rolled back: version 3 is live.");
  await expect(page.getByTestId("deploys")).toContainText("rollback to v1");
  expect(await (await request.get(`${gateway}/t/${slug}/hello/ada`)).json()).toEqual({ hello: "ada" });

  // A topic is a draft change too; once live, a message is published and its id shown.
  await page.getByRole("link", { name: "Topics", exact: true }).click();
  await pageReady(page);
  await page.getByLabel("Name").fill("orders");
  await page.getByRole("button", { name: "Add topic" }).click();
  await expect(page.getByTestId("topic-orders")).toBeVisible();
  await deploy(page, slug, 4);
  await page.getByRole("link", { name: "Topics", exact: true }).click();
  await pageReady(page);
  await page.getByTestId("topic-orders").getByText("Publish a message").click();
  await page.getByTestId("topic-orders").getByLabel("Message (JSON)").fill('{"n": 1}');
  await page.getByRole("button", { name: "Publish" }).click();
  await expect(page.getByTestId("published")).toContainText("to 0 subscriber(s)");
  // The topic's tail shows the message, and one published from outside as it comes.
  const id = (await page.getByTestId("published").locator("code").textContent()) ?? "";
  const messages = page.getByTestId("topic-orders").getByTestId("messages");
  await expect(messages.getByTestId("message")).toHaveCount(1);
  await expect(messages.getByTestId("message").first()).toContainText(id);
  await expect(messages.getByTestId("message").first()).toContainText('{"n":1}');
  const headers = { origin: new URL(page.url()).origin };
  // A pipeline the topic starts: the tail links a message to the run it started.
  const graph = {
    nodes: [
      { id: "orders", kind: "topic", config: { topic: "orders" }, position: { x: 0, y: 0 } },
      { id: "result", kind: "output", config: {}, position: { x: 240, y: 0 } },
    ],
    edges: [{ from: { node: "orders", port: "out" }, to: { node: "result", port: "in" } }],
  };
  const pipeline = await page.request.post(`/api/v1/workspaces/${slug}/pipelines`, { data: { name: "On orders", graph }, headers });
  expect(pipeline.status()).toBe(201);
  const published = await page.request.post(`/api/v1/workspaces/${slug}/topics/orders/messages`, { data: { n: 2 }, headers });
  expect(published.status()).toBe(202);
  expect((await published.json()).deliveries).toBe(1);
  await expect(messages.getByTestId("message")).toHaveCount(2);
  const latest = messages.getByTestId("message").first();
  await expect(latest).toContainText('{"n":2}');
  await expect(latest.getByTestId("message-run")).toContainText("On orders");
  await expect(latest.getByTestId("message-run")).toContainText("succeeded", { timeout: 15_000 });
  await expect(messages.getByTestId("message").last().getByTestId("message-run")).toHaveCount(0);
  await latest.getByTestId("message-run").click();
  await expect(page).toHaveURL(new RegExp(`/w/${slug}/pipelines/${(await pipeline.json()).id}/runs/`));
  await expect(page.getByTestId("run-status").first()).toHaveText("succeeded");
});
