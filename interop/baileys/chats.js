#!/usr/bin/env node
// Interop check for chats and contacts (issue 12): legacy Baileys 3.5.3 against `wawebd sim --tls`.
//
//   node chats.js [PATH_TO_WAWEBD]   (or WAWEBD=… node chats.js)
//
// 1. The phone has one more chat (archived, pinned, unread) and contact than its initial state;
//    Baileys' own chat list (`conn.chats`) and contacts after login must equal the sim's state.
// 2. Baileys' `modifyChat` archive, pin, mute, unmute, unpin, unarchive and delete must land in
//    the sim's state (`chat_state`), with metric 12 as PROTOCOL.md 11.2 says.
// 3. A `phone_action` must reach Baileys as a chat-update.
// Prints PASS/FAIL per step; exits 1 on any failure. Env as check.js.
'use strict';
const {
  STEP_TIMEOUT_MS, CONTACT, Baileys, within, trim, sleep, startSim, receivedChild, pairBaileys,
  nextUpdate, step, expect, run,
} = require('./lib');

const ZED = '4917000000001@s.whatsapp.net';

async function phoneChat(sim, jid) {
  const state = await sim.cmd({ cmd: 'chat_state' });
  return state.chats.find((c) => c.jid === jid) || null;
}

async function main() {
  const sim = startSim('chats');
  await sim.wait((l) => l.type === 'listening', 'sim listening line', 10000);
  await sim.cmd({ cmd: 'add_chats', chats: [{ jid: ZED, name: 'Zed', archive: true, pin: 1600000000, count: 2, t: 1600000500 }] });
  await sim.cmd({ cmd: 'add_contacts', contacts: [{ jid: ZED, name: 'Zed', notify: 'Z', short: 'Zed' }] });
  const { conn } = await pairBaileys(sim);
  const state = await sim.cmd({ cmd: 'chat_state' });

  await step('1a Baileys\' chat list is the phone\'s', async () => {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (conn.chats.length < state.chats.length && Date.now() < deadline) await sleep(50);
    expect(conn.chats.length === state.chats.length, `Baileys has ${conn.chats.length} chats, the phone ${state.chats.length}`);
    for (const want of state.chats) {
      const got = conn.chats.get(want.jid.replace('@s.whatsapp.net', '@s.whatsapp.net'));
      expect(got, `Baileys lacks ${want.jid}: ${trim(conn.chats.all().map((c) => c.jid))}`);
      expect(got.t === want.t && got.count === want.count, `${want.jid}: t ${got.t}/${want.t}, count ${got.count}/${want.count}`);
      expect((got.archive === 'true') === want.archive, `${want.jid}: archive ${got.archive} vs ${want.archive}`);
      expect(String(got.pin || '') === String(want.pin || ''), `${want.jid}: pin ${got.pin} vs ${want.pin}`);
    }
    return `${conn.chats.length} chats, Zed archived, pinned, count 2`;
  });
  await step('1b Baileys\' contacts are the phone\'s', async () => {
    for (const want of state.contacts) {
      const got = conn.contacts[want.jid];
      expect(got && got.name === want.name && (got.notify || null) === want.notify, `${want.jid}: ${trim(got)} vs ${trim(want)}`);
    }
    return `${state.contacts.length} contacts`;
  });

  const modify = async (name, jid, type, arg, check) => step(name, async () => {
    const mark = sim.lines.length;
    await within(STEP_TIMEOUT_MS, `modifyChat ${type}`, conn.modifyChat(jid, type, arg));
    const line = await receivedChild(sim, 'chat', mark, `the ${type} set-action`);
    expect(line.metric === 12, `metric ${line.metric}`);
    const chat = await phoneChat(sim, jid);
    check(chat);
    return `sim: ${trim(chat)}`;
  });
  const M = Baileys.ChatModification;
  await modify('2a archive', CONTACT, M.archive, undefined, (c) => expect(c.archive === true, 'not archived'));
  await modify('2b pin', CONTACT, M.pin, undefined, (c) => expect(c.pin > 1600000000, `pin ${c.pin}`));
  await modify('2c mute for an hour', CONTACT, M.mute, 3600 * 1000, (c) => expect(c.mute > Date.now() / 1000, `mute ${c.mute}`));
  await modify('2d unmute', CONTACT, M.unmute, undefined, (c) => expect(c.mute === null, `mute ${c.mute}`));
  await modify('2e unpin', CONTACT, M.unpin, undefined, (c) => expect(c.pin === null, `pin ${c.pin}`));
  await modify('2f unarchive', CONTACT, M.unarchive, undefined, (c) => expect(c.archive === false, 'still archived'));
  await step('2g delete', async () => {
    const mark = sim.lines.length;
    await within(STEP_TIMEOUT_MS, 'modifyChat delete', conn.modifyChat(ZED, M.delete));
    await receivedChild(sim, 'chat', mark, 'the delete set-action');
    expect((await phoneChat(sim, ZED)) === null, 'the phone still has Zed');
    return 'the phone no longer has Zed';
  });
  await step('3 a pin on the phone reaches Baileys', async () => {
    const got = nextUpdate(conn, (u) => u.jid === CONTACT && 'pin' in u && u, 'a pin update');
    await sim.cmd({ cmd: 'phone_action', action: 'pin', chat: CONTACT, value: '1700000000' });
    const update = await got;
    expect(update.pin === '1700000000', `update ${trim(update)}`);
    expect((await phoneChat(sim, CONTACT)).pin === 1700000000, 'the phone did not keep it');
    return `chat-update ${trim(update)}`;
  });
  conn.close();
}

run(main);
