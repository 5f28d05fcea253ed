#!/usr/bin/env node
// Interop check for history and search (issue 12): legacy Baileys 3.5.3's own `loadMessages`
// (before a cursor, and after one with mostRecentFirst = false) and `searchMessages` against
// `wawebd sim --tls`, whose phone holds a seeded archive (`seed_history`). What Baileys gets must
// be what the simulator holds, in order, with B's metric and flags on the wire.
//
//   node history.js [PATH_TO_WAWEBD]   (or WAWEBD=… node history.js)
//
// Prints PASS/FAIL per step; exits 1 on any failure. Env as check.js (BAILEYS_LOG, SIM_LOG,
// STEP_TIMEOUT_MS).
'use strict';
const { startSim, step, expect, run, within, STEP_TIMEOUT_MS, pairStep,
} = require('./lib');

// Not in the simulator's chat list, so Baileys has no cached messages and asks the server.
const ARCHIVE = '4915100000009@s.whatsapp.net';
const N = 300;

const number = (m) => {
  const text = (m.message && m.message.conversation) || '';
  expect(text.startsWith('history '), `unexpected text ${JSON.stringify(text)}`);
  return +text.slice('history '.length);
};
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const same = (got, want, what) => expect(JSON.stringify(got) === JSON.stringify(want),
  `${what}: got ${JSON.stringify(got.slice(0, 8))}… (${got.length}), want ${JSON.stringify(want.slice(0, 8))}… (${want.length})`);

async function main() {
  const sim = startSim('sim');
  const baileys = await pairStep(sim);
  if (!baileys) return;
  const conn = baileys.conn;
  let seeded;
  await step(`1 the phone holds an archive of ${N}`, async () => {
    seeded = await sim.cmd({ cmd: 'seed_history', chat: ARCHIVE, count: N });
    expect(seeded.total === N, `total ${seeded.total}`);
    return `first ${seeded.first_id}, last ${seeded.last_id}`;
  });
  let all = [];
  await step('2 loadMessages backwards from the newest, 40 at a time, to the start', async () => {
    const mark = sim.lines.length;
    let cursor;
    let pages = 0;
    for (;;) {
      const { messages } = await within(STEP_TIMEOUT_MS, 'loadMessages', conn.loadMessages(ARCHIVE, 40, cursor));
      if (messages.length === 0) break;
      pages += 1;
      expect(messages.length <= 40, `a page of ${messages.length}`);
      all = messages.concat(all);
      cursor = { id: messages[0].key.id, fromMe: messages[0].key.fromMe };
      if (pages > 20) throw new Error('no end in sight');
    }
    same(all.map(number), range(1, N), 'numbers oldest first');
    expect(all[N - 1].key.id === seeded.last_id, `newest ${all[N - 1].key.id}`);
    expect(all.every((m) => m.key.fromMe === (number(m) % 3 === 0)), 'every third is the user\'s');
    // The simulator's stdout may trail the websocket: wait for the line of the empty last page.
    await sim.wait((l) => l.type === 'history_query' && l.returned === 0, 'the last history_query line', STEP_TIMEOUT_MS, mark);
    const asked = sim.lines.slice(mark).filter((l) => l.type === 'history_query');
    expect(asked.length === pages + 1, `${asked.length} queries for ${pages} pages`);
    const wire = sim.lines.slice(mark).find((l) => l.type === 'received' && l.node && l.node.attrs.type === 'message');
    expect(wire.metric === 7 && wire.flags === 128, `metric ${wire.metric}, flags ${wire.flags}`);
    return `${pages} pages, ${asked.length} queries, metric 7 flags 0x80`;
  });
  await step('3 loadMessages forwards (mostRecentFirst = false) after a cursor', async () => {
    const forward = [];
    let cursor = { id: all[99].key.id, fromMe: all[99].key.fromMe };
    for (;;) {
      const { messages } = await conn.loadMessages(ARCHIVE, 64, cursor, false);
      if (messages.length === 0) break;
      forward.push(...messages);
      const last = messages[messages.length - 1];
      cursor = { id: last.key.id, fromMe: last.key.fromMe };
    }
    same(forward.map(number), range(101, N), 'numbers after 100');
    const { messages } = await conn.loadMessages(ARCHIVE, 5, undefined, false);
    same(messages.map(number), [1, 2, 3, 4, 5], 'from the start without a cursor');
    return `${forward.length} messages after #100, oldest first`;
  });
  await step('4 an unknown cursor: the server\'s 404, which Baileys reads as no messages', async () => {
    const mark = sim.lines.length;
    const { messages } = await conn.loadMessages(ARCHIVE, 5, { id: '3A00NOSUCHMESSAGE000', fromMe: false });
    expect(messages.length === 0, `got ${messages.length} messages`);
    const line = await sim.wait((l) => l.type === 'history_query', 'the history_query line', STEP_TIMEOUT_MS, mark);
    expect(line.status === 404 && line.index === '3A00NOSUCHMESSAGE000', `line ${JSON.stringify(line)}`);
    return 'status 404, an empty page';
  });
  await step('5 searchMessages pages newest first and says when it is the last', async () => {
    const mark = sim.lines.length;
    const first = await conn.searchMessages('History 29', ARCHIVE, 5, 1);
    same(first.messages.map(number), [299, 298, 297, 296, 295], 'page 1');
    expect(first.last === false, 'page 1 is not the last');
    const third = await conn.searchMessages('history 29', null, 5, 3);
    same(third.messages.map(number), [29], 'page 3');
    expect(third.last === true, 'page 3 is the last');
    await sim.wait((l) => l.type === 'search_query' && l.page === 3, 'the second search_query line', STEP_TIMEOUT_MS, mark);
    const asked = sim.lines.slice(mark).filter((l) => l.type === 'search_query');
    expect(asked.length === 2 && asked[0].jid === ARCHIVE && asked[1].jid === null, `search lines ${JSON.stringify(asked)}`);
    const wire = sim.lines.slice(mark).find((l) => l.type === 'received' && l.node && l.node.attrs.type === 'search');
    expect(wire.metric === 24 && wire.flags === 128, `metric ${wire.metric}, flags ${wire.flags}`);
    return '11 matches in pages of 5, metric 24';
  });
  conn.close();
}

run(main);
