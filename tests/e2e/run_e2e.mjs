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

async function contactQuestion(chat) {
  // The demo competence bank (storage/demo_contacts.csv): in Kungälv only Lina Bergkvist has
  // consented and lists diabetes (Emil Carlberg, also Kungälv, has not consented).
  await chat.say('vem kan diabetes i Kungälv?');
  const card = await chat.botCard(/Kollegor som kan ”diabetes” i Kungälv/);
  const people = await chat.sections(card, ' · '); // one per person: "role · municipality"
  const first = await chat.section(card, 'Lina Bergkvist');
  await chat.expectText(people[0], 'Lina Bergkvist');
  await chat.expectText(first, 'Distriktssköterska · Kungälv');
  await chat.expectText(first, /Kan\s+diabetes, fotvård vid diabetes, insulinbehandling/);
  await chat.expectText(first, /Telefon\s+0303-23 81 10/);
  await chat.expectNoText(card, /Emil Carlberg|Annan kommun/);
  const opened = {
    'E-post': 'mailto:lina.bergkvist@kungalv.example.se',
    Ring: 'tel:+46303238110',
    'Chatta i Teams':
      'https://teams.microsoft.com/l/chat/0/0?users=lina.bergkvist@kungalv.example.se',
  };
  for (const [title, expected] of Object.entries(opened)) {
    const url = await chat.clickLink(first, title);
    if (url !== expected) throw new Error(`the ${title} button opened ${url}, not ${expected}`);
  }
  // A follow-up: the place is kept from the question before, the topic changes. In Kungälv
  // Omar Haddad lists sårvård; Lina Bergkvist does not.
  await chat.say('och sårvård?');
  const followUp = await chat.botCard(/Omar Haddad/);
  await chat.expectNoText(followUp, /Lina Bergkvist/);
}

async function answerToTheBotsQuestion(chat) {
  // "kl 4" could be night or afternoon: the bot asks, and a free answer settles it.
  await chat.say('påminn mig imorgon kl 4 att ringa Lena');
  await chat.botSays(/kl\. 04\.00 på natten eller kl\. 16\.00/);
  await chat.say('eftermiddag');
  const set = await chat.botSays(/Okej! Jag påminner dig/);
  await chat.expectText(set, /kl\. 16\.00: ”ringa Lena”/);
  // Leave the list empty for the reminder conversation after this one.
  await chat.say('ta bort påminnelse 1');
  await chat.botSays('Borttagen: ”ringa Lena”.');
}

const REMINDER_WAIT = 75000; // ms: "om 1 minut" on the real clock, plus delivery

async function reminderSetListedReceived(chat) {
  // scheduler/when.py reads "om 1 minut" as now + 60 s; the confirmation spells the moment out
  // in full ("måndag 30 november 2026 kl. 09.00", Stockholm time).
  const asked = Date.now();
  await chat.say('påminn mig om 1 minut att ringa Lena');
  const set = await chat.botSays(/Okej! Jag påminner dig/);
  const when = swedishWhen(asked + 60000);
  const whenLater = swedishWhen(asked + 120000); // the minute may turn while the bot answers
  const confirmed = await set.innerText();
  if (!confirmed.includes(`dig ${when}: ”ringa Lena”`) &&
      !confirmed.includes(`dig ${whenLater}: ”ringa Lena”`)) {
    throw new Error(`expected the reminder at ${when}; the bot said:\n${confirmed}`);
  }
  const shown = confirmed.match(/dig (.+ kl\. \d\d\.\d\d):/)[1];

  await chat.say('mina påminnelser');
  const list = await chat.botCard('Dina påminnelser');
  // "1. …" renders as a Markdown list: the number is the list marker, not text.
  await chat.expectText(list, `${shown} – ringa Lena`);
  const row = await chat.section(list, 'ringa Lena');
  await row.getByRole('button', { name: 'Ta bort', exact: true }).first().waitFor();

  // The reminder itself arrives proactively: the bot posts to the playground's mock Bot
  // Connector (the serviceUrl of the stored conversation reference), which pushes it to the
  // open page over its websocket.
  await chat.markSeen();
  const left = Math.max(REMINDER_WAIT - (Date.now() - asked), 5000);
  const reminder = await chat.botCard(/^Påminnelse\b[\s\S]*ringa Lena/, left);
  await chat.expectText(reminder, 'Påminn igen om 1 timme');
  await chat.click(reminder, 'Klar');
  await chat.botSays('Markerad som klar');
  // The buttons are universal actions (Action.Execute): the playground answers the press with
  // the bot's updated card in place, so the card shows the outcome and nothing to press twice.
  await chat.waitForText(reminder, 'Klar ✓');
  await chat.expectNoText(reminder, 'Påminn igen om 1 timme');

  await chat.say('mina påminnelser');
  await chat.botSays('Du har inga kommande påminnelser');
}

/** "måndag 30 november 2026 kl. 09.00" for a moment (ms), as scheduler/swedish.py writes it. */
function swedishWhen(ms) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('sv-SE', {
      timeZone: 'Europe/Stockholm',
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(ms))
      .map((part) => [part.type, part.value]),
  );
  const { weekday, day, month, year, hour, minute } = parts;
  return `${weekday} ${day} ${month} ${year} kl. ${hour}.${minute}`;
}

async function pollAnsweredAndBooked(chat) {
  // The playground is one user (Anna, a coordinator via COORDINATORS) in a personal chat: the
  // working group is "everyone in this chat", so Anna alone, read from the mock connector's
  // roster. With one member the whole flow runs: card, answer, result (everyone has answered),
  // booking, announcement and invite. tests/e2e/README.md says what this leaves out.
  await chat.say('ny arbetsgrupp Spånargruppen med alla i chatten');
  await chat.botSays('Arbetsgruppen Spånargruppen är skapad med 1 medlem: Anna Andersson.');

  await chat.say('planera spånarmöte för Spånargruppen');
  await chat.botSays(/Vad ska mötet heta\? Skriv ”ok” för ”Spånarmöte”/);
  await chat.say('ok');
  await chat.botSays('Hur långt blir mötet?');
  await chat.say('2 timmar');
  await chat.botSays('Var ses ni?');
  await chat.say('Kommunhuset, sal 3');
  await chat.botSays('Vilka tider kan gruppen välja mellan?');
  // Two written slots on working days two weeks ahead: far enough for the default last day
  // to answer ("ok": 17.00 two working days before the first slot).
  const [first, second] = workingDaysAhead(14, 2);
  await chat.say(`${first.short} 13-15, ${second.short} 9-11`);
  await chat.botSays('Vilken är sista dagen att svara?');
  await chat.say('ok');

  const firstSlot = `${first.long} kl. 13.00–15.00`;
  const secondSlot = `${second.long} kl. 09.00–11.00`;
  const card = await chat.botCard('Spånarmöte – Spånargruppen');
  await chat.expectText(card, /Plats\s+Kommunhuset, sal 3/);
  await chat.expectText(card, /Längd\s+2 timmar/);
  await chat.expectText(card, 'Har inte svarat (1): Anna Andersson');
  await chat.botSays(/Klart! Jag har skickat tidsförslagen för Spånarmöte till 1 person/);

  // Answer on the card: Ja for the first slot, Nej for the second, then "Skicka svar".
  await chat.choose(await chat.section(card, firstSlot), 'Ja');
  await chat.choose(await chat.section(card, secondSlot), 'Nej');
  await chat.click(card, 'Skicka svar');
  const thanks = await chat.botSays(/Tack Anna! Ditt svar för Spånarmöte är sparat/);
  await chat.expectText(thanks, `${firstSlot}: Ja`);
  await chat.expectText(thanks, `${secondSlot}: Nej`);
  // The card she answered on acknowledges it and keeps her choices.
  await chat.waitForText(card, 'Du har svarat.');
  await chat.expectText(await chat.section(card, firstSlot), 'Ditt svar: Ja');
  await chat.expectText(await chat.section(card, secondSlot), 'Ditt svar: Nej');

  // Everyone (Anna) has answered: the result comes to the coordinator, best slot first.
  const result = await chat.botCard('Resultat: Spånarmöte – Spånargruppen');
  await chat.expectText(result, 'Alla 1 har svarat.');
  const best = await chat.section(result, firstSlot);
  await chat.expectText(best, `${firstSlot}: Ja 1, Om det behövs 0, Nej 0`);
  // The shared card was updated in place (PUT to the mock connector) with Anna's answer.
  await chat.expectText(card, 'Alla har svarat.');
  await chat.expectText(await chat.section(card, firstSlot), 'Ja (1): Anna Andersson');

  await chat.click(best, 'Boka');
  // Booked in the group's own chat (here the personal chat): one message, the announcement;
  // the pressed result card turns into the booked poll, without buttons to book again.
  const announced = `Spånarmöte för Spånargruppen är bokat: ${firstSlot}, Kommunhuset, sal 3.`;
  await chat.botSays(announced);
  await chat.waitForText(result, `Bokat: ${firstSlot}, Kommunhuset, sal 3.`);
  await chat.expectNoText(result, 'Boka den här tiden');
  const invite = await chat.botCard('Inbjudan: Spånarmöte');
  await chat.expectText(invite, `${firstSlot}`);
  const ics = await chat.clickLink(invite, 'Lägg till i kalendern (.ics)');
  const calendar = await (await fetch(ics)).text();
  const lines = [
    'BEGIN:VCALENDAR',
    'SUMMARY:Spånarmöte – Spånargruppen',
    'LOCATION:Kommunhuset\\, sal 3',
  ];
  for (const line of lines) {
    if (!calendar.includes(line)) throw new Error(`${ics} has no ${line}:\n${calendar}`);
  }
  const outlook = await chat.clickLink(invite, 'Öppna i Outlook');
  if (!outlook.startsWith('https://outlook.office.com/calendar/0/deeplink/compose?')) {
    throw new Error(`the Outlook button opened ${outlook}`);
  }
  await chat.expectText(card, `Bokat: ${firstSlot}, Kommunhuset, sal 3.`);
}

const WEEKDAYS = ['söndag', 'måndag', 'tisdag', 'onsdag', 'torsdag', 'fredag', 'lördag'];
const SHORT_WEEKDAYS = ['sön', 'mån', 'tis', 'ons', 'tors', 'fre', 'lör'];
const MONTHS = ['januari', 'februari', 'mars', 'april', 'maj', 'juni', 'juli', 'augusti',
  'september', 'oktober', 'november', 'december'];

/** `count` weekdays from `days` ahead on: {short: "tis 8/12", long: "tisdag 8 december 2026"}.
 *  Skips weekends and the Christmas and New Year weeks (written slots may be any day; these are
 *  only to keep the default deadline simple). */
function workingDaysAhead(days, count) {
  const found = [];
  const day = new Date();
  day.setUTCHours(12, 0, 0, 0);
  day.setUTCDate(day.getUTCDate() + days);
  while (found.length < count) {
    const weekday = day.getUTCDay();
    const holidays = day.getUTCMonth() === 11 && day.getUTCDate() >= 20;
    const newYear = day.getUTCMonth() === 0 && day.getUTCDate() <= 7;
    if (weekday >= 1 && weekday <= 5 && !holidays && !newYear) {
      const [d, m, y] = [day.getUTCDate(), day.getUTCMonth(), day.getUTCFullYear()];
      found.push({
        short: `${SHORT_WEEKDAYS[weekday]} ${d}/${m + 1}`,
        long: `${WEEKDAYS[weekday]} ${d} ${MONTHS[m]} ${y}`,
      });
    }
    day.setUTCDate(day.getUTCDate() + 1);
  }
  return found;
}

async function deadlineDoneAndStatus(chat) {
  // The playground has one user, so the group is Anna alone, made in the personal chat; she is
  // coordinator and member. A deadline for today, registered after the morning's nudge hour,
  // nudges at once: the card arrives proactively, Klar settles it, and `status` shows her done.
  await chat.say('ny arbetsgrupp Enkätgruppen med alla i chatten');
  await chat.botSays('Arbetsgruppen Enkätgruppen är skapad med 1 medlem: Anna Andersson.');
  await chat.say('deadline enkäten idag för gruppen Enkätgruppen');
  const set = await chat.botSays(/Deadline enkäten/);
  await chat.expectText(set, 'satt av Anna Andersson');
  const hour = Number(
    new Intl.DateTimeFormat('sv-SE', {
      timeZone: 'Europe/Stockholm', hour: 'numeric', hourCycle: 'h23',
    }).format(Date.now()),
  );
  if (hour < 8) {
    // before the nudges' hour the day's nudge is still ahead (08.00): say it instead of pressing
    await chat.expectText(set, 'kl. 08.00');
    await chat.say('klar med enkäten');
  } else {
    // the nudge comes at once, right behind the confirmation (new since the message above)
    const nudge = await chat.botCard(/Deadline: enkäten/, REMINDER_WAIT);
    await chat.expectText(nudge, /”enkäten” ska vara klar .*\(idag\)/);
    await chat.expectText(nudge, 'Satt av Anna Andersson för arbetsgruppen Enkätgruppen.');
    await chat.click(nudge, 'Klar');
  }
  await chat.botSays(/klar med enkäten/);
  await chat.say('status enkäten');
  const status = await chat.botCard('Status: enkäten');
  await chat.expectText(status, 'Klara (1): Anna Andersson');
  await chat.expectText(status, 'Inte klara (0): ingen');
}

const CONVERSATIONS = {
  'welcome-and-help': welcomeAndHelp, // first: the welcome comes once per conversation
  'course-question': courseQuestion,
  'contact-question': contactQuestion,
  'answer-to-the-bots-question': answerToTheBotsQuestion,
  // Before the poll: a failed reminder leaves no dialog open, a failed poll plan might.
  'reminder-set-listed-received': reminderSetListedReceived,
  'poll-answered-and-booked': pollAnsweredAndBooked,
  'deadline-done-and-status': deadlineDoneAndStatus,
};

// --- the Chat helper ------------------------------------------------------------------------
const BOT_MESSAGE = '.fai-OutputCard'; // every bot message, text or card
const OPEN_RECORDER = () => {
  window.__opened = [];
  window.open = (url) => {
    window.__opened.push(String(url));
    return null;
  };
};
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

  /** Every innermost container of a card showing `text`, in the card's order. */
  async sections(card, text) {
    const inner = card.locator('.ac-container', { hasText: text });
    const sections = inner.filter({ hasNot: card.locator('.ac-container', { hasText: text }) });
    await sections.first().waitFor({ timeout: REPLY_TIMEOUT });
    return sections.all();
  }

  /** Waits until `locator` shows `text` (a card updated in place after a press). */
  async waitForText(locator, text) {
    const deadline = Date.now() + REPLY_TIMEOUT;
    while (!(await locator.innerText()).includes(text)) {
      if (Date.now() > deadline) await this.expectText(locator, text); // throws with the text
      await this.page.waitForTimeout(100);
    }
  }

  async expectNoText(locator, text) {
    const shown = await locator.innerText();
    const found = text instanceof RegExp ? text.test(shown) : shown.includes(text);
    if (found) throw new Error(`did not expect ${text} in:\n${shown}`);
  }

  /** From now on only bot messages arriving later count as new (a proactive message). */
  markSeen() {
    return this.page.locator(BOT_MESSAGE).count().then((count) => {
      this.seen = count;
    });
  }

  /** Picks an option of a card's Input.ChoiceSet (expanded: radio buttons) in `within`. */
  async choose(within, option) {
    const radio = within.getByRole('radio', { name: option, exact: true }).first();
    await radio.check();
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
