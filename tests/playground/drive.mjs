// Drives the Microsoft 365 Agents Playground's web UI like a person would, with
// playwright-core over Debian's Chromium, and reports what the screen showed.
//
// Usage: node drive.mjs JOB.json   (written by tests/teams/test_agents_playground.py)
// JOB: {url, browser, shots, ingest: [argv...], question}
// Prints one JSON object: {steps: {name: text shown}, errors: [...], refused: [hosts
// the page tried to reach off loopback (the Playground's CDN fonts)]}; screenshots
// of each step go to JOB.shots. The Playground keeps a conversation's history in
// the page, so every step runs in one page, in order.

import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const WAIT = 60_000; // a shared 2-core machine; the Playground answers within it
const steps = {};
const errors = [];

const browser = await chromium.launch({
  executablePath: job.browser,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    // Anything not on loopback goes to a closed port: no test reaches the internet.
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=127.0.0.1;localhost",
  ],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
page.on("pageerror", (error) => errors.push(`page: ${error}`));
page.setDefaultTimeout(WAIT);
const refused = new Set();
await page.route(
  (url) => !["127.0.0.1", "localhost"].includes(url.hostname),
  (route) => {
    refused.add(new URL(route.request().url()).hostname);
    return route.abort("internetdisconnected");
  },
);

async function shot(name) {
  await page.screenshot({ path: join(job.shots, `${name}.png`), fullPage: true });
}

// Cards in the open conversation, oldest first.
const cards = () => page.locator(".ac-adaptiveCard");

async function cardWith(text) {
  const card = cards().filter({ hasText: text });
  await card.first().waitFor();
  return card;
}

// The Playground's log panel lists each message the bot sends it.
const BOT_MESSAGE = /User Application\s*\S+\s*Microsoft 365 Agents Playground\s*message/;
const botMessages = () =>
  page.evaluate(
    (pattern) => (document.body.innerText.match(new RegExp(pattern, "g")) || []).length,
    BOT_MESSAGE.source,
  );

async function compose(text, { mentionBot = false } = {}) {
  const box = page.locator("[data-lexical-editor=true]").first();
  await box.click();
  if (mentionBot) {
    await page.keyboard.type("@");
    await page.getByText(job.botName, { exact: true }).last().click();
  }
  await page.keyboard.type(text);
}

try {
  await page.goto(job.url);
  await page.getByText("Connected.", { exact: true }).waitFor();

  // A personal chat: help, then a question about the guidelines.
  await page.getByText("Personal Chat", { exact: true }).click();
  await compose("help");
  await page.keyboard.press("Enter");
  steps.help = await (await cardWith("What Playcaller can do for you")).last().innerText();
  await compose(job.question);
  await page.keyboard.press("Enter");
  const answers = cards().filter({ hasText: "Ask a coach" });
  await answers.first().waitFor();
  steps.answer = await answers.last().innerText();
  await shot("1-personal-chat");

  // A channel post with an @mention: the bot learns the channel's conversation.
  await page.getByText(job.channelName, { exact: true }).click();
  await compose(" help", { mentionBot: true });
  const answered = await botMessages();
  await page.getByRole("button", { name: "Post", exact: true }).click();
  await page.waitForFunction(
    ([pattern, before]) => (document.body.innerText.match(new RegExp(pattern, "g")) || []).length > before,
    [BOT_MESSAGE.source, answered],
  );

  // A mention arrives from another process and is posted to the channel.
  execFileSync(job.ingest[0], job.ingest.slice(1), { stdio: "pipe", cwd: job.cwd });
  const mention = await cardWith(job.mentionTitle);
  steps.mention = await mention.last().innerText();
  steps.mentionCards = await mention.count();
  await shot("2-mention-card");

  // Claim: an adaptiveCard/action invoke; the card changes in place.
  await mention.last().getByRole("button", { name: "Claim", exact: true }).click();
  const claimed = cards().filter({ hasText: job.claimedText });
  await claimed.first().waitFor();
  steps.claimed = await claimed.last().innerText();
  steps.mentionCardsAfterClaim = await cards().filter({ hasText: job.mentionTitle }).count();
  await shot("3-claimed");

  // Resolve opens a form in the card; submitting it updates the card again.
  await claimed.last().getByRole("button", { name: "Resolve", exact: true }).click();
  const form = cards().filter({ hasText: job.formText });
  await form.first().waitFor();
  steps.form = await form.last().innerText();
  await shot("4-resolve-form");
  await form.last().getByRole("combobox").first().click();
  await page.getByRole("option", { name: job.outcomeLabel, exact: true }).click();
  await form.last().locator("textarea").first().fill(job.note);
  await form.last().getByRole("button", { name: job.submitLabel, exact: true }).click();
  const resolved = cards().filter({ hasText: job.resolvedText });
  await resolved.first().waitFor();
  steps.resolved = await resolved.last().innerText();
  steps.mentionCardsAfterResolve = await cards().filter({ hasText: job.mentionTitle }).count();
  await shot("5-resolved");
} catch (error) {
  errors.push(String(error).slice(0, 2000));
  await shot("failed").catch(() => {});
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify({ steps, errors, refused: [...refused].sort() }));
