// Renders Adaptive Cards with the official `adaptivecards` renderer in headless
// Chromium and reports, per card, theme and width: the renderer's parse and
// validation errors, any element that runs past the card's edge, and any text
// the renderer cut with an ellipsis (a button reading "Cl…"). Writes one PNG
// per rendering. Driven by tests/test_card_rendering.py:
//
//   node render.mjs JOB.json   ->  JSON results on stdout
//
// JOB.json: {"cards": [{"name", "card"}], "hostConfigs": {"light": path, ...},
//            "widths": [560, 320], "out": folder, "browser": path}
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const job = JSON.parse(readFileSync(process.argv[2], "utf8"));
const library = join(here, "node_modules", "adaptivecards", "dist", "adaptivecards.min.js");
const styles = join(here, "node_modules", "adaptivecards", "dist", "adaptivecards.css");

// The flags the rendering check is run with: nothing in the browser reaches out.
const ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function inPage({ card, hostConfig, width }) {
  const AC = window.AdaptiveCards;
  const errors = [];
  const host = document.getElementById("host");
  host.innerHTML = "";
  host.style.width = `${width}px`;
  const config = new AC.HostConfig(hostConfig);
  host.style.background = hostConfig.containerStyles.default.backgroundColor;
  document.body.style.background = host.style.background;
  const adaptive = new AC.AdaptiveCard();
  adaptive.hostConfig = config;
  const context = new AC.SerializationContext();
  try {
    adaptive.parse(card, context);
  } catch (error) {
    errors.push(`parse threw: ${error}`);
  }
  for (let i = 0; i < context.eventCount; i++) {
    const event = context.getEventAt(i);
    errors.push(`parse: ${event.message}`);
  }
  for (const event of adaptive.validateProperties().validationEvents) {
    errors.push(`validation: ${event.message}`);
  }
  let element;
  try {
    element = adaptive.render();
  } catch (error) {
    errors.push(`render threw: ${error}`);
  }
  if (!element) {
    errors.push("render returned nothing");
    return { errors, overflow: [], truncated: [] };
  }
  host.appendChild(element);
  const describe = (el) => {
    const text = (el.innerText || el.getAttribute("aria-label") || "").trim().replace(/\s+/g, " ");
    const cls = typeof el.className === "string" ? el.className.split(" ")[0] : "";
    return `<${el.tagName.toLowerCase()}${cls ? "." + cls : ""}> "${text.slice(0, 40)}"`;
  };
  const edge = host.getBoundingClientRect();
  const overflow = [];
  const truncated = [];
  for (const el of host.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.right > edge.right + 0.5) {
      overflow.push(`${describe(el)} runs ${Math.ceil(box.right - edge.right)}px past the right edge`);
    }
    const style = getComputedStyle(el);
    const clips = style.textOverflow === "ellipsis" || style.overflowX === "hidden";
    const ownText = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (clips && ownText && el.scrollWidth > el.clientWidth + 1) {
      truncated.push(`${describe(el)} is cut (${el.scrollWidth}px of text in ${el.clientWidth}px)`);
    }
  }
  if (host.scrollWidth > host.clientWidth + 1) {
    overflow.push(`the card is ${host.scrollWidth}px wide in ${host.clientWidth}px`);
  }
  return { errors, overflow: overflow.slice(0, 10), truncated: truncated.slice(0, 10) };
}

const profile = mkdtempSync(join(tmpdir(), "pc-render-"));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: job.browser,
    headless: true,
    args: ARGS,
    viewport: { width: 1200, height: 900 },
    deviceScaleFactor: 1,
    offline: true,
  });
  const page = context.pages()[0] || (await context.newPage());
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
  await page.setContent(
    '<!doctype html><html><head><meta charset="utf-8"></head>' +
      '<body style="margin:0;padding:8px"><div id="host"></div></body></html>',
  );
  await page.addStyleTag({ path: styles });
  await page.addScriptTag({ path: library });
  const results = [];
  for (const [theme, path] of Object.entries(job.hostConfigs)) {
    const hostConfig = JSON.parse(readFileSync(path, "utf8"));
    for (const width of job.widths) {
      for (const { name, card } of job.cards) {
        pageErrors.length = 0;
        const found = await page.evaluate(inPage, { card, hostConfig, width });
        found.errors.push(...pageErrors.map((e) => `page: ${e}`));
        const png = join(job.out, `${name}.${theme}.${width}.png`);
        await page.locator("#host").screenshot({ path: png });
        results.push({ name, theme, width, png, ...found });
      }
    }
  }
  process.stdout.write(JSON.stringify({ results }));
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
