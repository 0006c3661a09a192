// Scripted conversations with Nätverksboten through the Microsoft 365 Agents Playground,
// rendered by headless Debian Chromium and driven by playwright-core.
//
//   node run_e2e.mjs --url http://127.0.0.1:56150 [--only welcome-and-help] [--shots DIR]
//
// Normally started by tests/test_e2e.py, which first starts a fresh bot (empty SQLite) and a
// fresh playground; the welcome only comes once per conversation, so run against fresh ones.
// A conversation is one async function below taking a Chat; add it to CONVERSATIONS.
// Prints one JSON line per conversation; exits 1 if any failed.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const HERE = path.dirname(new URL(import.meta.url).pathname);
const { values: args } = parseArgs({
  options: {
    url: { type: 'string', default: process.env.PLAYGROUND_URL ?? 'http://127.0.0.1:56150' },
    only: { type: 'string', multiple: true },
    shots: { type: 'string', default: path.join(HERE, 'screenshots') },
    chromium: { type: 'string', default: process.env.CHROMIUM ?? '/usr/bin/chromium' },
    timeout: { type: 'string', default: '20000' }, // ms to wait for one reply
  },
});
const REPLY_TIMEOUT = Number(args.timeout);

// --- the conversations ----------------------------------------------------------------------
// Each gets a fresh page on the same playground (so the same Teams personal chat and the same
// bot database): the page starts empty, earlier conversations stay in the bot's memory.

async function welcomeAndHelp(chat) {
  // Opening the playground installs the bot in a new personal chat: Teams' welcome moment.
  const welcome = await chat.botSays(/Jag är Nätverksboten/);
  await chat.expectText(welcome, 'Skriv hjälp');

  await chat.say('hjälp');
  const card = await chat.botCard('Det här kan jag hjälpa till med');
  await chat.expectText(card, 'Skriv till mig som du skulle skriva till en kollega');
  await chat.expectText(card, '”avbryt”');
}

async function courseQuestion(chat) {
  // A fresh database holds the demo catalogue (storage/demo_courses.csv).
  await chat.say('finns det någon gratis kurs om demens?');
  const card = await chat.botCard(/Kostnadsfria kurser om ”[^”]*demens/);
  const course = await chat.section(card, 'Demens ABC – grundkurs om demenssjukdomar');
  await chat.expectText(course, 'Demenscentrum Sverige');
  const url = await chat.clickLink(course, 'Öppna kursen');
  if (url !== 'https://example.org/demenscentrum/demens-abc') {
    throw new Error(`the course button opened ${url}`);
  }
}

// Next, one function each, e.g.:
//   async function pollBooked(chat) {
//     await chat.say('hitta en mötestid ...');
//     const card = await chat.botCard('Mötestid');
//     await chat.click(card, 'tisdag 1 december kl. 10.00');
//     await chat.botSays(/bokad/);
//   }

const CONVERSATIONS = {
  'welcome-and-help': welcomeAndHelp, // first: the welcome comes once per conversation
  'course-question': courseQuestion,
};

// --- the Chat helper ------------------------------------------------------------------------
const BOT_MESSAGE = '.fai-OutputCard';
const OPEN_RECORDER = () => {
  window.__opened = [];
  window.open = (url) => {
    window.__opened.push(String(url));
    return null;
  };
}; // every bot message, text or card
const CARD = '.ac-adaptiveCard';

class Chat {
  constructor(page, name) {
    this.page = page;
    this.name = name;
    this.seen = 0; // bot messages already on the page when the user last spoke
  }

  /** Opens the playground's personal chat and waits until it has connected to the bot. */
  async open() {
    await this.page.goto(args.url, { waitUntil: 'domcontentloaded' });
    await this.page.getByText('Connected.', { exact: true }).waitFor({ timeout: 60000 });
    await this.page.getByRole('textbox').first().waitFor();
  }

  /** Types a message as the user and sends it with Enter. */
  async say(text) {
    this.seen = await this.page.locator(BOT_MESSAGE).count();
    const box = this.page.getByRole('textbox').first();
    await box.fill(text);
    await box.press('Enter');
  }

  /** The first new bot message matching `text` (string: substring; RegExp). */
  async botSays(text, timeout = REPLY_TIMEOUT) {
    return this.#newReply(this.page.locator(BOT_MESSAGE), text, timeout);
  }

  /** The first new Adaptive Card showing `text`. */
  async botCard(text, timeout = REPLY_TIMEOUT) {
    return this.#newReply(this.page.locator(BOT_MESSAGE), text, timeout, CARD);
  }

  async expectText(locator, text) {
    const shown = await locator.innerText();
    const ok = text instanceof RegExp ? text.test(shown) : shown.includes(text);
    if (!ok) throw new Error(`expected ${text} in:\n${shown}`);
  }

  /** The innermost container of a card (a course, a poll slot) that shows `text`. */
  async section(card, text) {
    const inner = card.locator('.ac-container', { hasText: text });
    const section = inner.filter({ hasNot: card.locator('.ac-container', { hasText: text }) });
    await section.first().waitFor({ timeout: REPLY_TIMEOUT });
    return section.first();
  }

  /** Presses a card button (Action.Submit) by its title; the first one in `within`. */
  async click(within, title) {
    this.seen = await this.page.locator(BOT_MESSAGE).count();
    await within.getByRole('button', { name: title, exact: true }).first().click();
  }

  /** Presses a link button (Action.OpenUrl) and returns the URL the client opened. */
  async clickLink(within, title) {
    // The playground renders OpenUrl actions as role=link buttons that call window.open,
    // which every page here records instead of opening (see OPEN_RECORDER).
    const before = await this.page.evaluate(() => window.__opened.length);
    await within.getByRole('link', { name: title, exact: true }).first().click();
    await this.page.waitForFunction((n) => window.__opened.length > n, before, {
      timeout: REPLY_TIMEOUT,
    });
    return this.page.evaluate(() => window.__opened.at(-1));
  }

  async screenshot(suffix = '') {
    fs.mkdirSync(args.shots, { recursive: true });
    const file = path.join(args.shots, `${this.name}${suffix}.png`);
    await this.page.screenshot({ path: file });
    return file;
  }

  async #newReply(all, text, timeout, inner) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const count = await all.count();
      for (let i = this.seen; i < count; i++) {
        const message = inner ? all.nth(i).locator(inner) : all.nth(i);
        if ((await message.count()) === 0) continue;
        const shown = await message.first().innerText();
        if (text instanceof RegExp ? text.test(shown) : shown.includes(text)) {
          return message.first();
        }
      }
      if (Date.now() > deadline) {
        const shown = [];
        for (let i = this.seen; i < count; i++) shown.push(await all.nth(i).innerText());
        throw new Error(
          `no new bot ${inner ? 'card' : 'message'} showing ${text} within ${timeout} ms; ` +
            `new bot messages: ${JSON.stringify(shown)}`,
        );
      }
      await this.page.waitForTimeout(100);
    }
  }
}

// --- running --------------------------------------------------------------------------------
async function main() {
  const names = args.only?.length ? args.only : Object.keys(CONVERSATIONS);
  const unknown = names.filter((name) => !(name in CONVERSATIONS));
  if (unknown.length) throw new Error(`unknown conversation(s): ${unknown.join(', ')}`);

  const started = Date.now();
  const browser = await chromium.launch({
    executablePath: args.chromium,
    // Debian's chromium as root in a container, offline: no sandbox, no GPU, no phoning home.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--lang=sv-SE',
    ],
  });
  let failed = 0;
  try {
    for (const name of names) {
      const t0 = Date.now();
      // A fresh context per conversation: its own user data, an empty chat on screen.
      const context = await browser.newContext({
        viewport: { width: 1280, height: 900 },
        locale: 'sv-SE',
        timezoneId: 'Europe/Stockholm',
      });
      // The playground page fetches Segoe UI fonts and animations from Microsoft's CDN; there
      // is no internet here, so fail those at once instead of waiting for DNS.
      await context.route(/^https?:\/\/(?!127\.0\.0\.1[:/]|localhost[:/])/, (route) =>
        route.abort('internetdisconnected'),
      );
      await context.addInitScript(OPEN_RECORDER);
      const page = await context.newPage();
      const chat = new Chat(page, name);
      for (const old of [`${name}.png`, `${name}-failed.png`]) {
        fs.rmSync(path.join(args.shots, old), { force: true });
      }
      const result = { conversation: name, ok: true };
      try {
        await chat.open();
        await CONVERSATIONS[name](chat);
        result.screenshot = await chat.screenshot();
      } catch (error) {
        failed += 1;
        result.ok = false;
        result.error = String(error?.message ?? error);
        result.screenshot = await chat.screenshot('-failed').catch(() => undefined);
      }
      result.seconds = (Date.now() - t0) / 1000;
      console.log(JSON.stringify(result));
      await context.close();
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify({ total_seconds: (Date.now() - started) / 1000, failed }));
  return failed ? 1 : 0;
}

process.exitCode = await main().catch((error) => {
  console.error(error);
  return 2;
});
