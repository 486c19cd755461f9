// End-to-end test of the coordinator's dashboard (docs/testing.md,
// "Dashboard"): the real lifeboat-coordinator on 127.0.0.1, real agent
// traffic from `lifeboat drill` streaming over mutual TLS, and Debian's
// chromium driven by playwright-core. The coordinator runs a communication
// plan ([comms]) whose webhooks go to tests/comms_channels/receiver.py, a
// real HTTP receiver that checks every payload and its HMAC signature.
//
// Usage: LIFEBOAT_BINARY_DIR=BUILD node dashboard_test.js
// (ctest sets the variable and NODE_PATH; tests/dashboard/CMakeLists.txt).
"use strict";

const assert = require("node:assert/strict");
const childProcess = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const https = require("node:https");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");
const { chromium } = require("playwright-core");
const { PNG } = require("pngjs");

const AGENT = "dash-agent";
const CHROMIUM = process.env.LIFEBOAT_CHROMIUM || "/usr/bin/chromium";

function log(line) {
  process.stdout.write(`[dashboard] ${line}\n`);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what, condition, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ""}`);
    }
    await sleep(100);
  }
}

// Ports below 32768, away from the kernel's ephemeral range (as
// tests/support/ports.hpp does): bind to see that they are free.
async function freePorts(count) {
  const ports = new Set();
  while (ports.size < count) {
    const port = 20000 + crypto.randomInt(12000);
    if (ports.has(port)) continue;
    const free = await new Promise((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    if (free) ports.add(port);
  }
  return [...ports];
}

function runToEnd(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = childProcess.spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

// A drill streaming to the coordinator; resolves with its exit when it ends.
function startDrill(binaries, agentConfig, runbook, variables, logFile) {
  const args = ["drill", "--config", agentConfig, "--output", "json"];
  for (const [name, value] of Object.entries(variables)) args.push("--var", `${name}=${value}`);
  args.push(runbook);
  const child = childProcess.spawn(path.join(binaries, "lifeboat"), args, { stdio: ["ignore", "pipe", "pipe"] });
  const out = fs.createWriteStream(logFile);
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  const exited = new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
  return { child, exited };
}

class Coordinator {
  constructor(binaries, config, logFile, env) {
    this.binaries = binaries;
    this.config = config;
    this.logFile = logFile;
    this.env = env;
    this.child = null;
  }

  async start() {
    const child = childProcess.spawn(path.join(this.binaries, "lifeboat-coordinator"),
                                     ["serve", "--config", this.config],
                                     { stdio: ["ignore", "pipe", "pipe"], env: this.env });
    this.child = child;
    const out = fs.createWriteStream(this.logFile, { flags: "a" });
    child.stderr.pipe(out);
    let text = "";
    const listening = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`lifeboat-coordinator printed no "listening:" line in 20 s; see ${this.logFile}`)), 20000);
      child.stdout.on("data", (chunk) => {
        out.write(chunk);
        text += chunk;
        const match = text.match(/listening: agents (wss:\/\/\S+), api (https:\/\/\S+)/);
        if (match) {
          clearTimeout(timer);
          resolve({ agents: match[1], api: match[2] });
        }
      });
      child.once("close", (code) => {
        clearTimeout(timer);
        reject(new Error(`lifeboat-coordinator exited (${code}) before listening; see ${this.logFile}`));
      });
    });
    this.exited = new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
    return listening;
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill("SIGTERM");
    const result = await Promise.race([this.exited, sleep(10000).then(() => null)]);
    if (result === null) {
      this.child.kill("SIGKILL");
      throw new Error("lifeboat-coordinator did not stop within 10 s of SIGTERM");
    }
    return result;
  }
}

// tests/comms_channels/receiver.py on 127.0.0.1: it prints its port, records
// every request as a JSON line and exits when its stdin closes.
async function startReceiver(record, webhookKey, logFile) {
  const script = path.join(__dirname, "..", "comms_channels", "receiver.py");
  const child = childProcess.spawn("/usr/bin/python3", [script, "--record", record, "--webhook-key", webhookKey],
                                   { stdio: ["pipe", "pipe", "pipe"] });
  child.stderr.pipe(fs.createWriteStream(logFile));
  const port = await new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(() => reject(new Error("receiver.py printed no port in 10 s")), 10000);
    child.stdout.on("data", (chunk) => {
      text += chunk;
      const match = /^(\d+)\n/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`receiver.py exited (${code}) before printing its port; see ${logFile}`));
    });
  });
  return { child, port, stop: () => child.stdin.end() };
}

function receivedRequests(record) {
  if (!fs.existsSync(record)) return [];
  return fs.readFileSync(record, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line));
}

function apiPost(base, route, token, ca, body) {
  return new Promise((resolve, reject) => {
    const url = new URL(route, base);
    const data = JSON.stringify(body);
    const request = https.request(url, {
      method: "POST",
      ca,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json",
                 "Content-Length": Buffer.byteLength(data) },
    }, (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode, text }));
    });
    request.on("error", reject);
    request.end(data);
  });
}

// The communication plan: customers need the spokesperson's approval and
// hear in drills on their drill webhook; partners' drill messages are held;
// engineering's webhook points at a port where nothing listens, so that
// channel keeps failing; the incident commander hears on a working webhook.
function commsPlan(receiverPort, deadPort) {
  const hook = (name, port) => [
    `[channels.${name}]`,
    'kind = "webhook"',
    `url = "http://127.0.0.1:${port}/webhook/${name}"`,
    'secret = "${secret:env:LIFEBOAT_DASH_WEBHOOK_KEY}"',
    "",
  ];
  return [
    "[services.dash-quick]",
    'display_name = "Dash quick"',
    'impact = "Nothing: the dashboard test runs it."',
    "",
    ...hook("customer_drill_hook", receiverPort),
    ...hook("partner_hook", receiverPort),
    ...hook("commander_hook", receiverPort),
    ...hook("eng_hook", deadPort),
    "[roles.incident_commander]",
    'person = "Dana Test"',
    'channels = ["commander_hook"]',
    "",
    "[roles.spokesperson]",
    'person = "Sam Test"',
    'tokens = ["sam"]',
    "",
    "[audiences.customers]",
    'channels = ["status_page"]',
    'drill_channels = ["customer_drill_hook"]',
    "external = true",
    'approval = "spokesperson"',
    'every = "30m"',
    "",
    "[audiences.partners]",
    'channels = ["partner_hook"]',
    "external = true",
    'drill = "held"',
    "",
    "[audiences.engineering]",
    'channels = ["eng_hook"]',
    'drill = "real"',
    "",
    "[templates.opened]",
    'subject = "{{service_name}}: we are investigating"',
    'body = "{{impact}} Next update at {{next_update}}."',
    "",
    "[templates.restored]",
    'subject = "{{service_name}} is working again"',
    'body = "Restored after {{elapsed}}."',
    "",
    "[templates.resolved]",
    'subject = "Resolved: {{service_name}}"',
    'body = "The incident is resolved."',
    "",
    "[templates.still_working]",
    'subject = "{{service_name}}: still working on it"',
    'body = "Next update at {{next_update}}."',
    "",
    "[[rules]]",
    'on = "opened"',
    'audiences = ["customers", "partners", "engineering"]',
    'template = "opened"',
    "",
    "[[rules]]",
    'on = "restored"',
    'audiences = ["customers", "engineering"]',
    'template = "restored"',
    "",
    "[[rules]]",
    'on = "resolved"',
    'audiences = ["customers", "partners", "engineering"]',
    'template = "resolved"',
    "",
    "[[rules]]",
    'on = "update"',
    'audiences = ["customers"]',
    'template = "still_working"',
    "",
  ].join("\n");
}

function apiGet(base, route, token, ca) {
  return new Promise((resolve, reject) => {
    const url = new URL(route, base);
    const request = https.get(url, { ca, headers: { Authorization: `Bearer ${token}` } }, (response) => {
      let body = "";
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => {
        try {
          resolve({ status: response.statusCode, body: JSON.parse(body) });
        } catch (error) {
          reject(new Error(`${route}: answer is not JSON (${response.statusCode}): ${body.slice(0, 200)}`));
        }
      });
    });
    request.on("error", reject);
  });
}

// "rgb(26, 127, 55)" -> [26, 127, 55]
function parseRgb(text) {
  const match = /^rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(text);
  assert.ok(match, `not an rgb() colour: ${text}`);
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

function near(pixel, colour, tolerance = 6) {
  return Math.abs(pixel[0] - colour[0]) <= tolerance && Math.abs(pixel[1] - colour[1]) <= tolerance &&
    Math.abs(pixel[2] - colour[2]) <= tolerance;
}

// The chart's bars as the page drew them: box (CSS px relative to the svg,
// which at device scale 1 are the screenshot's pixels) and fill colour.
async function barsOf(page) {
  return page.evaluate(() => {
    const svg = document.getElementById("gantt");
    const origin = svg.getBoundingClientRect();
    const budget = document.getElementById("rto-budget-line");
    return {
      // The vertical marker lines (outage, restored, budget) cross bars.
      markers: [...svg.querySelectorAll("line.marker")].map((line) => {
        const box = line.getBoundingClientRect();
        return box.left + box.width / 2 - origin.left;
      }),
      budgetX: budget ? budget.getBoundingClientRect().left + budget.getBoundingClientRect().width / 2 - origin.left : null,
      width: Math.round(origin.width),
      height: Math.round(origin.height),
      bars: [...svg.querySelectorAll("rect.bar")].map((bar) => {
        const box = bar.getBoundingClientRect();
        return {
          step: bar.dataset.step,
          status: bar.dataset.status,
          phase: bar.dataset.phase,
          x: box.left - origin.left,
          y: box.top - origin.top,
          width: box.width,
          height: box.height,
          fill: getComputedStyle(bar).fill,
        };
      }),
    };
  });
}

// Checks the screenshot, not the DOM: inside each bar (away from its outline
// and from the marker lines drawn across it) nearly every pixel has the bar's
// colour, and the status colours appear
// nowhere else (background, labels, axis) in any quantity.
function checkTimelinePixels(file, chart) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const pixel = (x, y) => {
    const offset = (png.width * y + x) * 4;
    return [png.data[offset], png.data[offset + 1], png.data[offset + 2]];
  };
  assert.ok(Math.abs(png.width - chart.width) <= 1 && Math.abs(png.height - chart.height) <= 1,
            `screenshot ${png.width}x${png.height} is not the chart's ${chart.width}x${chart.height}`);
  const colours = chart.bars.map((bar) => parseRgb(bar.fill));
  const inside = (x, y) => chart.bars.some((bar) =>
    x >= Math.floor(bar.x) - 2 && x <= Math.ceil(bar.x + bar.width) + 2 &&
    y >= Math.floor(bar.y) - 2 && y <= Math.ceil(bar.y + bar.height) + 2);
  chart.bars.forEach((bar, index) => {
    const colour = colours[index];
    const inset = 3; // cleanup and rollback bars have a 3 px outline
    const x0 = Math.ceil(bar.x) + inset;
    const x1 = Math.floor(bar.x + bar.width) - inset;
    const y0 = Math.ceil(bar.y) + inset;
    const y1 = Math.floor(bar.y + bar.height) - inset;
    assert.ok(x1 > x0 && y1 > y0, `bar ${bar.step} is too small to check (${bar.width.toFixed(1)} px wide)`);
    let matching = 0;
    let total = 0;
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        if (chart.markers.some((markerX) => Math.abs(x - markerX) <= 2.5)) continue;
        total++;
        if (near(pixel(x, y), colour)) matching++;
      }
    }
    assert.ok(total > 0 && matching / total >= 0.95,
              `bar ${bar.step} (${bar.status}): only ${matching} of ${total} pixels in ${file} have its colour ${bar.fill}`);
  });
  let stray = 0;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      if (!inside(x, y) && colours.some((colour) => near(pixel(x, y), colour, 3))) stray++;
    }
  }
  assert.ok(stray < 40, `${stray} pixels outside the bars have a bar's colour in ${file}`);
}

// Checks the screenshot of the channel list: the failing channel's badge
// colour fills a solid patch inside that channel's row and appears nowhere
// else, so a failing channel stands out by more than its word.
function checkChannelPixels(file, boxes, red) {
  const png = PNG.sync.read(fs.readFileSync(file));
  const inBox = (box, x, y) => x >= box.x - 1 && x <= box.x + box.width + 1 && y >= box.y - 1 && y <= box.y + box.height + 1;
  let inside = 0;
  let outside = 0;
  for (let y = 0; y < png.height; y++) {
    for (let x = 0; x < png.width; x++) {
      const offset = (png.width * y + x) * 4;
      if (!near([png.data[offset], png.data[offset + 1], png.data[offset + 2]], red, 4)) continue;
      if (boxes.failing.some((box) => inBox(box, x, y))) inside++;
      else outside++;
    }
  }
  // The 4 px edge along the row and the badge: well over 100 pixels.
  assert.ok(inside >= 100, `only ${inside} pixels of the failing colour inside the failing channel's row in ${file}`);
  assert.ok(outside < 10, `${outside} pixels of the failing colour outside the failing channel's row in ${file}`);
}

// The Communications view against run 1's drill incident: messages grouped
// by audience, a viewer's refused approval, the spokesperson's edit and
// approval reaching the receiver, a rejection, a 409, the summary and the
// channels' health.
async function checkCommunications({ page, get, urls, ca, record, webhookKey, spokespersonToken, run1, shots }) {
  const incident = await waitFor("run 1's drill incident in /api/v1/incidents", async () =>
    (await get("/api/v1/incidents")).incidents.find((candidate) => candidate.run === run1.run));
  assert.equal(incident.drill, true, JSON.stringify(incident));
  assert.match(incident.key, /^drill-\d+$/);
  const customers = await waitFor("run 1's customer messages awaiting approval", async () => {
    const messages = (await get(`/api/v1/messages?incident=${incident.key}`)).messages;
    const waiting = messages.filter((message) => message.audience === "customers" && message.state === "awaiting_approval");
    return waiting.length === 3 ? waiting : null;
  });
  const byTrigger = (trigger) => {
    const found = customers.find((message) => message.trigger === trigger);
    assert.ok(found, `no ${trigger} message to customers: ${JSON.stringify(customers)}`);
    return found;
  };
  const opened = byTrigger("opened");
  const restored = byTrigger("restored");
  const resolved = byTrigger("resolved");
  assert.equal(opened.channel, "customer_drill_hook");

  await page.getByRole("button", { name: /^Communications/ }).click();
  await page.locator("#comms-view").waitFor({ state: "visible" });
  assert.equal(await page.locator("#runs-view").isVisible(), false);
  const incidentButton = page.locator(`#comms-side button[data-incident="${incident.key}"]`);
  await incidentButton.waitFor();
  await incidentButton.locator(".badge.drill").waitFor();
  await incidentButton.locator('[data-awaiting="3"]').waitFor();

  // Channels: engineering's webhook has nowhere to go and is failing.
  const failingChannel = page.locator('#channels li[data-channel="eng_hook"][data-state="failing"]');
  await failingChannel.waitFor({ timeout: 30000 });
  await page.locator('#channels li[data-channel="commander_hook"][data-state="ok"]').waitFor();
  assert.match(await failingChannel.locator(".channel-problem").textContent(), /failure\(s\) in a row, last at .*: \S/);
  assert.equal(await page.locator("#channels li").first().getAttribute("data-channel"), "eng_hook",
               "the failing channel is not listed first");
  const channelBoxes = await page.evaluate(() => {
    const origin = document.getElementById("channels").getBoundingClientRect();
    const box = (node) => {
      const rect = node.getBoundingClientRect();
      return { x: rect.left - origin.left, y: rect.top - origin.top, width: rect.width, height: rect.height };
    };
    return { failing: [...document.querySelectorAll('#channels li[data-state="failing"]')].map(box) };
  });
  const channelShot = path.join(shots, "channels.png");
  await page.locator("#channels").screenshot({ path: channelShot });
  const failingRed = parseRgb(await failingChannel.locator(".badge.channel-failing").evaluate((node) => getComputedStyle(node).backgroundColor));
  checkChannelPixels(channelShot, channelBoxes, failingRed);
  log(`channels: eng_hook failing and listed first, its colour only in its row (${channelShot})`);

  // The incident: its messages by audience, each with its state in words.
  await incidentButton.click();
  await page.locator(`#incident-body[data-incident="${incident.key}"]`).waitFor();
  const message = (id) => page.locator(`#audiences li[data-message="${id}"]`);
  await page.locator(`#audiences section[data-audience="customers"] li[data-message="${opened.id}"][data-state="awaiting_approval"]`).waitFor();
  await page.locator('#audiences section[data-audience="partners"] li[data-state="held"] .message-detail')
    .filter({ hasText: "would have gone to partner_hook" }).first().waitFor();
  await page.locator('#audiences section[data-audience="engineering"] li[data-channel="eng_hook"][data-state="pending"] .message-detail')
    .filter({ hasText: /\d+ attempt\(s\) so far, next attempt \d{4}-/ }).first().waitFor();
  await page.locator('#cadence tr[data-audience="customers"]').filter({ hasText: "30 min 00 s" }).waitFor();
  assert.equal(await message(opened.id).locator(".message-subject").textContent(), opened.subject);
  log(`incident ${incident.key}: customers awaiting approval, partners held, engineering pending with attempts`);

  // A viewer may look but not approve: the API's 403, in its own words.
  await message(opened.id).getByRole("button", { name: "Approve", exact: true }).click();
  await message(opened.id).locator(".message-error")
    .filter({ hasText: "403 approving customer messages needs the approver role; alice is a viewer" }).waitFor();
  assert.equal((await get(`/api/v1/messages?incident=${incident.key}`)).messages
    .find((candidate) => candidate.id === opened.id).state, "awaiting_approval");
  log("viewer: approving refused, the 403 text shown");

  // The spokesperson signs in (no reload), edits and approves.
  await page.locator("#sign-out").click();
  await page.getByLabel("Access token").fill(spokespersonToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#who-name").filter({ hasText: "sam" }).waitFor();
  await incidentButton.click();
  await message(opened.id).getByRole("button", { name: "Edit" }).click();
  const editedSubject = `[DRILL] Dash quick: edited by the spokesperson ${crypto.randomBytes(4).toString("hex")}`;
  const editedBody = 'DRILL: a test.\nWe are on it. <b id="injected">not bold</b> & more.';
  // The engine puts the drill line back on an edited drill message.
  const sentBody =
    "DRILL: this message is part of a failover drill; no service was affected.\n\n" + editedBody;
  await message(opened.id).getByLabel("Subject").fill(editedSubject);
  await message(opened.id).getByLabel("Body").fill(editedBody);
  await message(opened.id).getByRole("button", { name: "Approve with these edits" }).click();
  await page.locator(`#audiences li[data-message="${opened.id}"][data-state="sent"]`).waitFor({ timeout: 20000 });
  assert.equal(await message(opened.id).locator(".message-subject").textContent(), editedSubject);
  assert.equal(await message(opened.id).locator(".message-body").textContent(), sentBody);
  await message(opened.id).locator(".badge.edited").waitFor();
  await message(opened.id).locator(".entry-meta").filter({ hasText: "approved by sam" }).waitFor();
  assert.equal(await page.locator("#injected").count(), 0, "a message body was inserted as markup");
  const delivered = await waitFor("the edited message at the receiver", async () =>
    receivedRequests(record).filter((request) => request.body && request.body.id === opened.id));
  assert.equal(delivered.length, 1, `the edited message arrived ${delivered.length} times`);
  assert.equal(delivered[0].path, "/webhook/customer_drill_hook");
  assert.deepEqual(delivered[0].problems, [], "the receiver found problems in the payload or its signature");
  assert.equal(delivered[0].body.subject, editedSubject);
  assert.equal(delivered[0].body.body, sentBody);
  assert.equal(delivered[0].body.drill, true);
  log("spokesperson: edited and approved in the page; the receiver got the edited text, signed");

  // Reject with a reason.
  await message(restored.id).getByRole("button", { name: "Reject" }).click();
  await message(restored.id).getByLabel("Reason for rejecting").fill("Say nothing until it is resolved");
  await message(restored.id).getByRole("button", { name: "Reject the message" }).click();
  await page.locator(`#audiences li[data-message="${restored.id}"][data-state="rejected"] .message-detail`)
    .filter({ hasText: /rejected by sam .*: Say nothing until it is resolved/ }).waitFor();

  // Someone else decides while the form is open: the API's 409 is shown.
  await message(resolved.id).getByRole("button", { name: "Edit" }).click();
  await message(resolved.id).getByLabel("Subject").waitFor();
  const elsewhere = await apiPost(urls.api, `/api/v1/messages/${resolved.id}/approve`, spokespersonToken, ca, {});
  assert.equal(elsewhere.status, 200, elsewhere.text);
  await message(resolved.id).getByRole("button", { name: "Approve with these edits" }).click();
  await message(resolved.id).locator(".message-error").filter({ hasText: /^Could not approve: 409 .*not awaiting approval/ }).waitFor();
  await page.locator(`#audiences li[data-message="${resolved.id}"][data-state="sent"]`).waitFor({ timeout: 20000 });
  assert.ok(!receivedRequests(record).some((request) => request.body && request.body.id === restored.id),
            "the rejected message was sent");
  log("rejected with a reason; a message approved elsewhere meanwhile: the 409 text shown");

  // The summary, as text.
  await page.locator("#summary-button").click();
  const summary = page.locator("#summary");
  await summary.waitFor({ state: "visible" });
  // The page refreshes it while it is open: it matches the API's text.
  const summaryText = await waitFor("the summary in the page to be the API's", async () => {
    const fromApi = await new Promise((resolve, reject) => {
      https.get(new URL(`/api/v1/incidents/${incident.key}/summary`, urls.api),
                { ca, headers: { Authorization: `Bearer ${spokespersonToken}` } }, (answer) => {
        let text = "";
        answer.on("data", (chunk) => (text += chunk));
        answer.on("end", () => resolve(answer.statusCode === 200 ? text : null));
      }).on("error", reject);
    });
    const shown = await summary.textContent();
    return fromApi !== null && shown === fromApi ? shown : null;
  });
  assert.match(summaryText, new RegExp(incident.key));
  await page.screenshot({ path: path.join(shots, "communications.png"), fullPage: true });

  // No secret anywhere in the page or the API's answers.
  for (const text of [await page.content(), summaryText, JSON.stringify(await get("/api/v1/channels")),
                      JSON.stringify(await get(`/api/v1/messages?incident=${incident.key}`))]) {
    assert.ok(!text.includes(webhookKey), "the webhook key appears in the page or the API");
  }
  log(`summary shown as text (${summaryText.length} characters); no secret in the page`);
}

async function main() {
  const binaryDir = process.env.LIFEBOAT_BINARY_DIR;
  assert.ok(binaryDir, "set LIFEBOAT_BINARY_DIR to the build directory");
  const binaries = path.join(binaryDir, "bin");
  for (const name of ["lifeboat", "lifeboat-coordinator"]) {
    assert.ok(fs.existsSync(path.join(binaries, name)), `${path.join(binaries, name)} is missing: build it first`);
  }
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/install-deps.sh installs chromium`);

  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "lifeboat-dashboard-"));
  const shots = path.join(temp, "screenshots");
  fs.mkdirSync(shots);
  log(`temp dir ${temp}`);
  const cleanups = [];
  let passed = false;
  try {
    // ---- coordinator: dev certificates, one viewer token, free ports
    const tls = path.join(temp, "tls");
    const certs = await runToEnd(path.join(binaries, "lifeboat-coordinator"), ["certs", "init", tls, "--agent", AGENT]);
    assert.equal(certs.code, 0, `certs init failed: ${certs.stderr}`);
    const ca = fs.readFileSync(path.join(tls, "ca.pem"));
    const viewerToken = crypto.randomBytes(24).toString("hex");
    const spokespersonToken = crypto.randomBytes(24).toString("hex");
    const webhookKey = crypto.randomBytes(24).toString("hex");
    // deadPort: nothing listens there (engineering's failing channel).
    const [agentPort, apiPort, deadPort] = await freePorts(3);
    const record = path.join(temp, "received.jsonl");
    const receiver = await startReceiver(record, webhookKey, path.join(temp, "receiver.log"));
    cleanups.push(() => receiver.stop());
    fs.writeFileSync(path.join(temp, "comms.toml"), commsPlan(receiver.port, deadPort));
    const config = path.join(temp, "coordinator.toml");
    const baseConfig = [
      'database = "events.db"',
      "[agents]",
      `listen = "127.0.0.1:${agentPort}"`,
      'cert_file = "tls/coordinator.pem"',
      'key_file = "tls/coordinator-key.pem"',
      'client_ca_file = "tls/ca.pem"',
      "[api]",
      `listen = "127.0.0.1:${apiPort}"`,
      'cert_file = "tls/coordinator.pem"',
      'key_file = "tls/coordinator-key.pem"',
      "[[token]]",
      'name = "alice"',
      'role = "viewer"',
      `sha256 = "${crypto.createHash("sha256").update(viewerToken).digest("hex")}"`,
      "[[token]]",
      'name = "sam"',
      'role = "approver"',
      `sha256 = "${crypto.createHash("sha256").update(spokespersonToken).digest("hex")}"`,
      "",
    ];
    fs.writeFileSync(config, [...baseConfig, "[comms]", 'plan = "comms.toml"', ""].join("\n"));
    const coordinatorEnv = { ...process.env, LIFEBOAT_DASH_WEBHOOK_KEY: webhookKey };
    const coordinator = new Coordinator(binaries, config, path.join(temp, "coordinator.log"), coordinatorEnv);
    cleanups.push(() => coordinator.stop().catch(() => {}));
    const urls = await coordinator.start();
    log(`coordinator: agents ${urls.agents}, api ${urls.api}`);
    assert.equal(urls.agents, `wss://127.0.0.1:${agentPort}/v1/stream`);
    assert.equal(urls.api, `https://127.0.0.1:${apiPort}`);
    const get = async (route) => {
      const answer = await apiGet(urls.api, route, viewerToken, ca);
      assert.equal(answer.status, 200, `GET ${route}: ${answer.status} ${JSON.stringify(answer.body)}`);
      return answer.body;
    };

    // ---- the agent: its config streams to the coordinator. `runbooks` is
    // required by the config format (it is what `lifeboat watch` watches);
    // `drill` only needs the name, the state dir and [coordinator].
    const agentConfig = path.join(temp, "agent.toml");
    const runbooks = path.join(__dirname, "runbooks");
    fs.writeFileSync(agentConfig, [
      `name = "${AGENT}"`,
      `state_dir = "${path.join(temp, "agent-state")}"`,
      `runbooks = ["${runbooks}"]`,
      "[coordinator]",
      `url = "${urls.agents}"`,
      `ca_file = "${path.join(tls, "ca.pem")}"`,
      `cert_file = "${path.join(tls, `agent-${AGENT}.pem`)}"`,
      `key_file = "${path.join(tls, `agent-${AGENT}-key.pem`)}"`,
      'flush_timeout = "15s"',
      "",
    ].join("\n"));

    // ---- run 1: a drill that finishes before the page opens
    const first = startDrill(binaries, agentConfig, path.join(runbooks, "quick-drill.toml"), {},
                             path.join(temp, "drill-1.log"));
    cleanups.push(() => {
      if (first.child.exitCode === null) first.child.kill("SIGKILL");
    });
    const run1 = await waitFor("run 1 finished in the coordinator's API", async () => {
      const runs = (await get("/api/v1/runs")).runs;
      return runs.find((run) => run.agent === AGENT && run.service === "dash-quick" && !run.live);
    }, 60000);
    // Every event was acknowledged, so the agent has nothing left to wait
    // for. RTO met, RPO breached (2 s measured, 1 s allowed): exit 3.
    const firstExit = await Promise.race([first.exited, sleep(30000).then(() => null)]);
    assert.ok(firstExit, "the first drill did not exit within 30 s of its run.finished reaching the coordinator");
    assert.equal(firstExit.code, 3, `first drill exit ${firstExit.code}; see ${path.join(temp, "drill-1.log")}`);
    const detail1 = (await get(`/api/v1/runs/${AGENT}/${run1.run}`)).run;
    assert.equal(detail1.rto.verdict, "met", `run 1 RTO: ${JSON.stringify(detail1.rto)}`);
    assert.equal(detail1.rpo.verdict, "breached", `run 1 RPO: ${JSON.stringify(detail1.rpo)}`);
    const ran1 = detail1.steps.filter((step) => step.started_at).map((step) => step.id).sort();
    assert.deepEqual(ran1, ["measure-rpo", "probe-a", "probe-b", "promote", "tidy"]);
    log(`run 1 ${run1.run}: ${ran1.length} steps ran, RTO ${detail1.rto.verdict}, RPO ${detail1.rpo.verdict}`);

    // ---- the browser. Chromium accepts exactly the coordinator's key: the
    // SPKI pin applies to this browser instance only and no other
    // certificate error is ignored.
    const spki = crypto.createHash("sha256")
      .update(new crypto.X509Certificate(fs.readFileSync(path.join(tls, "coordinator.pem")))
        .publicKey.export({ type: "spki", format: "der" }))
      .digest("base64");
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", `--ignore-certificate-errors-spki-list=${spki}`],
    });
    cleanups.push(() => browser.close().catch(() => {}));
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const pageErrors = [];
    page.on("pageerror", (error) => pageErrors.push(error.message));
    page.on("console", (message) => {
      // 401, 403, 404 and 409 are answers the test provokes on purpose.
      if (message.type() === "error" && !/status of 40[1349]/.test(message.text())) pageErrors.push(message.text());
    });
    let navigations = 0;
    page.on("framenavigated", (frame) => {
      if (frame === page.mainFrame()) navigations++;
    });

    await page.goto(`${urls.api}/`);
    assert.equal(navigations, 1);
    const csp = await page.evaluate(async () => (await fetch("/")).headers.get("content-security-policy"));
    assert.match(csp || "", /default-src 'self'/, "the page is served without CSP default-src 'self'");

    // It asks for a token.
    const tokenInput = page.getByLabel("Access token");
    await tokenInput.waitFor({ state: "visible" });
    assert.equal(await page.locator("#board").isVisible(), false);

    // A wrong token: the coordinator's 401, shown.
    await tokenInput.fill("not-a-token");
    await tokenInput.press("Enter");
    await page.locator("#sign-in-error").filter({ hasText: "401" }).waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.length), 0, "a refused token was kept");
    log("wrong token: 401 shown");

    // The viewer token.
    await tokenInput.fill(viewerToken);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#who-name").filter({ hasText: "alice" }).waitFor();
    assert.equal(await page.locator("#who-role").textContent(), "viewer");
    await page.locator("#live[data-state=live]").waitFor();
    await page.evaluate(() => {
      window.lifeboatTestMarker = "still the same document";
    });
    const agentItem = page.locator(`#agents li[data-agent="${AGENT}"]`);
    await agentItem.waitFor();
    const run1Button = page.locator(`#runs-past button[data-run="${run1.run}"]`);
    await run1Button.waitFor();
    for (const objective of ["rto", "rpo"]) {
      assert.equal(await run1Button.locator(`[data-objective=${objective}]`).getAttribute("data-verdict"),
                   detail1[objective].verdict, `run 1 ${objective} badge in the list`);
    }
    log("signed in as alice (viewer); run 1 listed with its verdicts");

    // Run 1's timeline.
    await run1Button.click();
    await page.locator(`#run-body[data-run="${run1.run}"]`).waitFor();
    await page.locator("#gantt rect.bar").first().waitFor();
    for (const objective of ["rto", "rpo"]) {
      assert.equal(await page.locator(`#run-badges [data-objective=${objective}]`).getAttribute("data-verdict"),
                   detail1[objective].verdict, `run 1 ${objective} badge in the detail`);
    }
    const chart1 = await barsOf(page);
    assert.deepEqual(chart1.bars.map((bar) => bar.step).sort(), ran1, "one bar per step that ran");
    assert.ok(chart1.bars.every((bar) => bar.status === "ok"), JSON.stringify(chart1.bars));
    assert.equal(chart1.bars.find((bar) => bar.step === "tidy").phase, "cleanup");
    assert.ok(chart1.budgetX !== null, "no RTO budget line");
    // Every step finished within the 10 s budget: every bar ends left of it.
    for (const bar of chart1.bars) {
      assert.ok(bar.x + bar.width <= chart1.budgetX + 1, `bar ${bar.step} ends past the RTO budget line`);
    }
    // Waves: probe-a and probe-b start together, promote after both.
    const barOf = (chart, step) => chart.bars.find((bar) => bar.step === step);
    assert.ok(barOf(chart1, "promote").x >= Math.max(barOf(chart1, "probe-a").x + barOf(chart1, "probe-a").width,
                                                     barOf(chart1, "probe-b").x + barOf(chart1, "probe-b").width) - 1);
    const shot1 = path.join(shots, "run1-timeline.png");
    await page.locator("#gantt").screenshot({ path: shot1 });
    checkTimelinePixels(shot1, chart1);
    await page.screenshot({ path: path.join(shots, "run1-page.png"), fullPage: true });
    log(`run 1 timeline: ${chart1.bars.length} bars, RTO budget line at x=${chart1.budgetX.toFixed(0)}, pixels checked (${shot1})`);

    // ---- run 2, streamed while the page is open: it must appear, and its
    // steps advance, without a reload.
    const gates = path.join(temp, "gates");
    fs.mkdirSync(gates);
    const second = startDrill(binaries, agentConfig, path.join(runbooks, "gated-drill.toml"), { gate_dir: gates },
                              path.join(temp, "drill-2.log"));
    cleanups.push(() => {
      if (second.child.exitCode === null) second.child.kill("SIGKILL");
    });
    await page.locator(`#agents li[data-agent="${AGENT}"][data-online="true"]`).waitFor({ timeout: 30000 });
    const liveButton = page.locator("#runs-live button").filter({ hasText: "dash-gated" });
    await liveButton.waitFor({ timeout: 30000 });
    const run2 = await liveButton.getAttribute("data-run");
    log(`run 2 ${run2} appeared live; agent online`);
    await liveButton.click();
    await page.locator(`#run-body[data-run="${run2}"]`).waitFor();
    const holdOne = page.locator('#gantt rect.bar[data-step="hold-1"]');
    await page.locator('#gantt rect.bar[data-step="hold-1"][data-status="running"]').waitFor();
    assert.equal(await page.locator("#gantt rect.bar").count(), 1, "only hold-1 has started");
    const widthBefore = Number(await holdOne.getAttribute("width"));
    await sleep(1500);
    const widthAfter = Number(await holdOne.getAttribute("width"));
    assert.ok(widthAfter > widthBefore, `the running bar did not grow (${widthBefore} -> ${widthAfter})`);
    // The running bar grows with every redraw (twice a second): measure it
    // before and after the screenshot and shoot again when a redraw fell in
    // between, so that the pixels are checked against the bars they show.
    const shotRunning = path.join(shots, "run2-running.png");
    const runningChart = await waitFor("a screenshot between two redraws of the running bar", async () => {
      const before = await barsOf(page);
      await page.locator("#gantt").screenshot({ path: shotRunning });
      const after = await barsOf(page);
      return JSON.stringify(before) === JSON.stringify(after) ? after : null;
    }, 10000);
    checkTimelinePixels(shotRunning, runningChart);

    fs.writeFileSync(path.join(gates, "one"), "");
    await page.locator('#gantt rect.bar[data-step="hold-1"][data-status="ok"]').waitFor();
    await page.locator('#gantt rect.bar[data-step="hold-2"][data-status="running"]').waitFor();
    log("gate one opened: hold-1 ok, hold-2 running");
    await sleep(2000); // long enough for a bar wide enough to check its pixels
    fs.writeFileSync(path.join(gates, "two"), "");
    await page.locator(`#runs-past button[data-run="${run2}"]`).waitFor({ timeout: 30000 });
    await page.locator('#gantt rect.bar[data-step="tidy"][data-status="ok"]').waitFor();
    const secondExit = await Promise.race([second.exited, sleep(30000).then(() => null)]);
    assert.ok(secondExit, "the second drill did not exit within 30 s of its run.finished reaching the coordinator");
    assert.equal(secondExit.code, 0, `second drill exit ${secondExit.code}; see ${path.join(temp, "drill-2.log")}`);
    const detail2 = (await get(`/api/v1/runs/${AGENT}/${run2}`)).run;
    assert.equal(detail2.live, false);
    await page.locator("#run-badges [data-outcome]").filter({ hasText: detail2.outcome }).waitFor();
    for (const objective of ["rto", "rpo"]) {
      const expected = detail2[objective].target_ms === null ? "none" : detail2[objective].verdict;
      await page.locator(`#run-badges [data-objective=${objective}][data-verdict="${expected}"]`).waitFor();
      await page.locator(`#runs-past button[data-run="${run2}"] [data-objective=${objective}][data-verdict="${expected}"]`).waitFor();
    }
    assert.equal(detail2.rto.verdict, "met");
    const chart2 = await barsOf(page);
    assert.deepEqual(chart2.bars.map((bar) => bar.step).sort(), ["hold-1", "hold-2", "tidy"]);
    const shot2 = path.join(shots, "run2-timeline.png");
    await page.locator("#gantt").screenshot({ path: shot2 });
    checkTimelinePixels(shot2, chart2);
    await page.screenshot({ path: path.join(shots, "run2-page.png"), fullPage: true });
    await page.locator(`#agents li[data-agent="${AGENT}"][data-online="false"]`).waitFor({ timeout: 30000 });
    log(`run 2 finished live: outcome ${detail2.outcome}, RTO ${detail2.rto.verdict}; agent offline again`);

    await checkCommunications({ page, get, urls, ca, record, webhookKey, spokespersonToken, viewerToken,
                                run1, shots });

    assert.equal(navigations, 1, `the page navigated ${navigations - 1} more time(s)`);
    assert.equal(await page.evaluate(() => window.lifeboatTestMarker), "still the same document");
    assert.deepEqual(pageErrors, [], "errors in the page");

    // ---- the live feed reconnects when the coordinator comes back (the
    // browser logs the refused connections meanwhile: not checked). It comes
    // back without [comms]: the view says so.
    await coordinator.stop();
    await page.locator("#live[data-state=reconnecting]").waitFor();
    const plainConfig = path.join(temp, "coordinator-without-comms.toml");
    fs.writeFileSync(plainConfig, baseConfig.join("\n"));
    coordinator.config = plainConfig;
    await coordinator.start();
    await page.locator("#live[data-state=live]").waitFor({ timeout: 30000 });
    log("live feed: reconnecting while the coordinator was down, live again after its restart");
    await page.locator("#comms-off").filter({ hasText: "Communications are not configured" })
      .filter({ hasText: "add [comms] with a plan" }).waitFor({ timeout: 15000 });
    assert.equal(await page.locator("#incident-detail").isVisible(), false);
    log("without [comms]: the view says communications are not configured, with the API's 404 text");
    assert.equal(navigations, 1, "the page reloaded while reconnecting");
    passed = true;
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
    if (passed) {
      // Keep only the screenshots.
      for (const entry of fs.readdirSync(temp)) {
        if (entry !== "screenshots") fs.rmSync(path.join(temp, entry), { recursive: true, force: true });
      }
    }
    log(`screenshots in ${shots}`);
  }
}

main().then(
  () => {
    log("1 passed, 0 failed");
  },
  (error) => {
    process.stderr.write(`[dashboard] FAILED: ${error.stack || error}\n`);
    process.exitCode = 1;
  },
);
