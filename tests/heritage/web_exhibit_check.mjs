// Drives a RealScene web exhibit in headless Chromium (playwright-core) and prints what it
// saw as one JSON line; tests/heritage/test_exhibit_web.py judges it.
//
//   node web_exhibit_check.mjs URL SCREENSHOT.png [CHROMIUM]
//
// URL is file:///.../index.html or http://127.0.0.1:PORT/index.html. Every request the page
// makes is recorded. The page is used as a visitor would: wait for the model, screenshot the
// canvas, tap hotspot 1, start the tour and tap "next", switch the language.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const require = createRequire(path.join(process.cwd(), "package.json"));
const { chromium } = require("playwright-core");

const [url, shot, exe = "/usr/bin/chromium"] = process.argv.slice(2);
const out = { requests: [], console: [], errors: [] };
const browser = await chromium.launch({
  executablePath: exe,
  // WebGL on a machine without a GPU: ANGLE over SwiftShader (software Vulkan)
  args: ["--no-sandbox", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
         "--ignore-gpu-blocklist"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, hasTouch: true });
  page.on("request", (r) => out.requests.push(r.url()));
  page.on("console", (m) => out.console.push(`${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => out.errors.push(String(e)));
  page.on("requestfailed", (r) => out.console.push(`failed: ${r.url()} ${r.failure()?.errorText}`));
  await page.goto(url);
  await page.waitForFunction(() => document.body.dataset.loaded, null, { timeout: 120000 });
  out.loaded = await page.evaluate(() => document.body.dataset.loaded);
  out.pointSizes = await page.evaluate(() => {
    const mv = document.getElementById("model");
    const sym = Object.getOwnPropertySymbols(mv).find((k) => k.description === "scene");
    const sizes = [];
    mv[sym].traverse((o) => { if (o.isPoints) sizes.push(o.material.size); });
    return sizes;
  });
  const mv = page.locator("#model");
  // model-viewer draws after load; wait until it reports the model visible, then a frame
  await page.waitForFunction(() => document.getElementById("model").modelIsVisible === true,
    null, { timeout: 60000 }).catch(() => {});
  await page.waitForTimeout(1500);
  // the WebGL canvas alone (no page background, no buttons): transparent where nothing drew
  const png = await page.evaluate(async () => {
    const blob = await document.getElementById("model").toBlob({ mimeType: "image/png" });
    const bytes = new Uint8Array(await blob.arrayBuffer());
    let s = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(s);
  });
  fs.writeFileSync(shot, Buffer.from(png, "base64"));
  await page.screenshot({ path: shot.replace(/\.png$/, "-page.png") });
  out.lang0 = await page.evaluate(() => document.documentElement.lang);
  out.pageFont = await page.evaluate(async () => {
    await document.fonts.ready;
    const faces = [...document.fonts].filter((f) => f.family.replace(/"/g, "") === "RealScene Page");
    return { status: faces.map((f) => f.status),
             drawn: getComputedStyle(document.getElementById("btn-home")).fontFamily };
  });
  out.title = await page.textContent("#title");

  // hotspot 1: tap it, read the panel
  const hs = page.locator('button.hotspot[data-hotspot="1"]');
  out.hotspotCount = await page.locator("button.hotspot").count();
  out.hotspotBox = await hs.boundingBox();
  await hs.click({ force: true });
  await page.waitForSelector("#panel:not([hidden])", { timeout: 5000 });
  out.panelTitle = await page.textContent("#panel-title");
  out.panelDescription = await page.textContent("#panel-description");
  out.panelFacts = await page.locator("#panel-facts dd").allTextContents();
  out.panelPhotos = await page.$$eval("#panel-photos img", (imgs) =>
    imgs.map((i) => ({ src: i.src, width: i.naturalWidth, complete: i.complete })));

  // the language toggle: English, then Chinese
  await page.click("#lang-en");
  out.en = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    texts: [...document.querySelectorAll("[data-i18n]")].map((e) => e.textContent),
    facts: [...document.querySelectorAll("#panel-facts dt, #panel-facts dd")].map((e) => e.textContent),
    tourButtons: [...document.querySelectorAll("#tour-choice button")].map((e) => e.textContent),
  }));
  await page.click("#lang-zh");
  out.zh = await page.evaluate(() => ({
    lang: document.documentElement.lang,
    texts: [...document.querySelectorAll("[data-i18n]")].map((e) => e.textContent),
    facts: [...document.querySelectorAll("#panel-facts dt, #panel-facts dd")].map((e) => e.textContent),
    tourButtons: [...document.querySelectorAll("#tour-choice button")].map((e) => e.textContent),
  }));

  // the tour: start, read stop 1, next, read stop 2
  const readStop = () => page.evaluate(() => {
    const m = document.getElementById("model");
    const o = m.getCameraOrbit(), g = m.getCameraTarget();
    return {
      stop: document.body.dataset.tourStop, step: document.getElementById("tour-step").textContent,
      title: document.getElementById("tour-title").textContent,
      caption: document.getElementById("tour-caption").textContent,
      captionBox: (() => {
        const r = document.getElementById("tour-caption").getBoundingClientRect();
        return { width: r.width, height: r.height };
      })(),
      orbitAttr: m.cameraOrbit, targetAttr: m.cameraTarget,
      orbit: [o.theta, o.phi, o.radius], target: [g.x, g.y, g.z],
      panel: document.getElementById("panel").hidden ? null
        : document.getElementById("panel-title").textContent,
    };
  });
  if (await page.locator("#tour-choice button").count()) {
    await page.click("#tour-choice button");
    await page.waitForTimeout(2500);
    out.stop1 = await readStop();
    await page.click("#tour-next");
    await page.waitForTimeout(2500);
    out.stop2 = await readStop();
    await page.screenshot({ path: shot.replace(/\.png$/, "-tour.png") });
    await page.click("#tour-prev");
    out.back = await readStop();
  }
  out.requests = [...new Set(out.requests)];
} catch (e) {
  out.fatal = String(e && e.stack || e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(out));
