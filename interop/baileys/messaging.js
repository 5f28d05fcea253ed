#!/usr/bin/env node
// Interop check for messaging (issue 11): legacy Baileys 3.5.3 and wawebd against `wawebd sim --tls`.
//
//   node messaging.js [PATH_TO_WAWEBD] [PATH_TO_WAWEBCTL]   (or WAWEBD=… node messaging.js)
//
// A. Baileys sends to the simulator: a quote, mentions, a location, a contact, an image (mediaConn,
//    upload, relay), a revoke, a read receipt, presence and typing, a presence subscription. The
//    simulator's `received` lines must say what was sent (its own decoding, media verified).
// B. The simulator pushes to Baileys: a quote, a location, a contact, a revoke, presence, typing,
//    a group change, a phone-side archive, a blocklist, a call. Baileys must see each.
// C. wawebd against a second simulator: the image it sends is downloaded and decrypted by Baileys'
//    own media code, and its receipt, presence and typing nodes equal Baileys' (step A) node for node.
// Prints PASS/FAIL per step; exits 1 on any failure. Env as check.js (BAILEYS_LOG, SIM_LOG,
// STEP_TIMEOUT_MS).
'use strict';
const {
  WAWEBD, STEP_TIMEOUT_MS, CONTACT, OTHER, Baileys, MessageType, Presence,
  within, trim, sleep, tmp, children, startSim, receivedChild, relayed,
  nextUpdate, newMessage, step, expect, rpc, run, spawn, crypto, fs, https, path,
  pairStep,
} = require('./lib');

async function partA(sim, conn) {
  const nodes = {};   // what Baileys sent for receipts, presence and typing (compared in C)
  let incoming;
  await step('A0 receive a text to quote', async () => {
    const got = newMessage(conn, (m) => !m.key.fromMe && (m.message.conversation || '') === 'quote me', 'the incoming text');
    await sim.cmd({ cmd: 'send_text', from: CONTACT, text: 'quote me' });
    incoming = await got;
    return `id ${incoming.key.id}`;
  });
  await step('A1 quote', async () => {
    const mark = sim.lines.length;
    const sent = await conn.sendMessage(CONTACT, 'a reply', MessageType.extendedText, { quoted: incoming });
    const m = (await relayed(sim, sent.key.id, mark)).messages[0];
    expect(m.quoted && m.quoted.id === incoming.key.id, `sim decoded quoted ${trim(m.quoted)}`);
    return `sim: text ${JSON.stringify(m.text)}, quoted ${trim(m.quoted)}`;
  });
  await step('A2 mentions', async () => {
    const mark = sim.lines.length;
    const sent = await conn.sendMessage(CONTACT, { text: '@4915100000002 look', contextInfo: { mentionedJid: [OTHER] } }, MessageType.extendedText);
    const m = (await relayed(sim, sent.key.id, mark)).messages[0];
    expect(Array.isArray(m.mentions) && m.mentions.includes(OTHER), `sim decoded mentions ${trim(m.mentions)}`);
    return `sim: mentions ${trim(m.mentions)}`;
  });
  await step('A3 location', async () => {
    const mark = sim.lines.length;
    const sent = await conn.sendMessage(CONTACT, { degreesLatitude: 52.52, degreesLongitude: 13.405, name: 'Berlin', address: 'Pariser Platz' }, MessageType.location);
    const m = (await relayed(sim, sent.key.id, mark)).messages[0];
    expect(m.kind === 'location' && m.location && m.location.latitude === 52.52 && m.location.name === 'Berlin', `sim decoded ${trim(m)}`);
    return `sim: ${trim(m.location)}`;
  });
  await step('A4 contact (vcard)', async () => {
    const vcard = 'BEGIN:VCARD\nVERSION:3.0\nFN:Ada\nTEL;type=CELL;waid=4915100000003:+49 151 00000003\nEND:VCARD';
    const mark = sim.lines.length;
    const sent = await conn.sendMessage(CONTACT, { displayName: 'Ada', vcard }, MessageType.contact);
    const m = (await relayed(sim, sent.key.id, mark)).messages[0];
    expect(m.kind === 'contact' && m.contacts && m.contacts[0].vcard === vcard, `sim decoded ${trim(m)}`);
    return `sim: ${trim(m.contacts)}`;
  });
  await step('A5 image (mediaConn, upload, relay; the phone verifies the blob)', async () => {
    const image = crypto.randomBytes(40000);
    const mark = sim.lines.length;
    const sent = await conn.sendMessage(CONTACT, image, MessageType.image, { caption: 'noise', thumbnail: '' });
    const line = await relayed(sim, sent.key.id, mark);
    const m = line.messages[0];
    expect(m.kind === 'image' && m.media && m.media.caption === 'noise', `sim decoded ${trim(m)}`);
    expect(line.media_ok === true, `media_ok ${trim(line.media_ok)} ${trim(line.media_error)}`);
    return `sim: media_ok, ${m.media.file_length} bytes`;
  });
  await step('A6 revoke', async () => {
    const mark0 = sim.lines.length;
    const sent = await conn.sendMessage(CONTACT, 'oops', MessageType.text);
    await relayed(sim, sent.key.id, mark0);
    const mark = sim.lines.length;
    const revoke = await conn.deleteMessage(CONTACT, sent.key);
    const line = await sim.wait((l) => l.type === 'received' && l.tag === revoke.key.id, 'the revoke relay', STEP_TIMEOUT_MS, mark);
    const seen = JSON.stringify(line);
    expect(seen.includes(sent.key.id) && /revoke/i.test(seen), `sim line ${trim(line, 600)}`);
    return `sim: ${trim(line.revoke || line.messages, 200)}`;
  });
  await step('A7 read receipt (metric 11, flags 0x80)', async () => {
    const mark = sim.lines.length;
    await conn.sendReadReceipt(CONTACT, incoming.key, 1);
    const line = await receivedChild(sim, 'read', mark, 'the read receipt');
    expect(line.metric === 11 && line.flags === 0x80, `metric ${line.metric} flags ${line.flags}`);
    nodes.read = line;
    return trim(line.node.content);
  });
  for (const [name, presence, metric, flags] of [
    ['A8 presence available (8, 0xA0)', Presence.available, 8, 0xA0],
    ['A9 typing composing (8, 0x04)', Presence.composing, 8, 0x04],
    ['A10 typing paused (8, 0x04)', Presence.paused, 8, 0x04],
    ['A11 presence unavailable (8, 0x10)', Presence.unavailable, 8, 0x10],
  ]) {
    await step(name, async () => {
      const mark = sim.lines.length;
      await conn.updatePresence(CONTACT, presence);
      const line = await receivedChild(sim, 'presence', mark, `presence ${presence}`,
        (l) => l.node.content.some((c) => c.attrs && c.attrs.type === presence));
      expect(line.metric === metric && line.flags === flags, `metric ${line.metric} flags ${line.flags}`);
      nodes[presence] = line;
      return trim(line.node.content);
    });
  }
  await step('A12 presence subscribe', async () => {
    const got = nextUpdate(conn, (u) => u.presences && u.jid === CONTACT && u, 'a presence update');
    const reply = await conn.requestPresenceUpdate(CONTACT);
    expect(reply.status === 200, `reply ${trim(reply)}`);
    await sim.cmd({ cmd: 'presence', from: CONTACT, presence: 'available' });
    const u = await got;
    return `Baileys presences ${trim(u.presences)}`;
  });
  return nodes;
}

// ---------------------------------------------------------------- B. simulator -> Baileys
async function partB(sim, conn) {
  let sentByUs;
  await step('B1 quote and mentions from a contact', async () => {
    sentByUs = await conn.sendMessage(CONTACT, 'quote this', MessageType.text);
    const got = newMessage(conn, (m) => !m.key.fromMe && m.message.extendedTextMessage, 'the quoting message');
    await sim.cmd({ cmd: 'send_text', from: CONTACT, text: '@4915100000002 yes', quote: { id: sentByUs.key.id, from_me: true }, mentions: [OTHER] });
    const m = await got;
    const ctx = m.message.extendedTextMessage.contextInfo || {};
    expect(ctx.stanzaId === sentByUs.key.id, `contextInfo ${trim(ctx)}`);
    expect((ctx.mentionedJid || []).includes(OTHER), `mentionedJid ${trim(ctx.mentionedJid)}`);
    return `stanzaId ${ctx.stanzaId}, mentions ${trim(ctx.mentionedJid)}`;
  });
  await step('B2 location', async () => {
    const got = newMessage(conn, (m) => m.message.locationMessage, 'a location');
    await sim.cmd({ cmd: 'send_location', from: CONTACT, latitude: 48.8584, longitude: 2.2945, name: 'Tour Eiffel' });
    const loc = (await got).message.locationMessage;
    expect(Math.abs(loc.degreesLatitude - 48.8584) < 1e-9 && loc.name === 'Tour Eiffel', trim(loc));
    return trim(loc);
  });
  await step('B3 contact', async () => {
    const got = newMessage(conn, (m) => m.message.contactMessage || m.message.contactsArrayMessage, 'a contact');
    await sim.cmd({ cmd: 'send_contact', from: CONTACT, contacts: [{ display_name: 'Bob', vcard: 'BEGIN:VCARD\nVERSION:3.0\nFN:Bob\nEND:VCARD' }] });
    const c = (await got).message.contactMessage;
    expect(c && c.displayName === 'Bob' && c.vcard.includes('FN:Bob'), trim(c));
    return trim(c);
  });
  await step('B4 revoke', async () => {
    const first = newMessage(conn, (m) => !m.key.fromMe && m.message.conversation === 'to be deleted', 'the message to revoke');
    await sim.cmd({ cmd: 'send_text', from: CONTACT, text: 'to be deleted' });
    const target = await first;
    const got = nextUpdate(conn, (u) => {
      const msgs = u.messages ? u.messages.all() : [];
      return msgs.find((m) => (m.message && m.message.protocolMessage && m.message.protocolMessage.key.id === target.key.id) ||
        (m.key.id === target.key.id && m.messageStubType === Baileys.WA_MESSAGE_STUB_TYPE.REVOKE));
    }, 'the revoke');
    await sim.cmd({ cmd: 'revoke', from: CONTACT, id: target.key.id });
    const m = await got;
    return `Baileys: ${m.messageStubType === Baileys.WA_MESSAGE_STUB_TYPE.REVOKE ? 'message replaced by a REVOKE stub' : 'protocolMessage REVOKE'}`;
  });
  await step('B5 presence and typing', async () => {
    const typing = nextUpdate(conn, (u) => u.presences && Object.values(u.presences).some((p) => p.lastKnownPresence === 'composing') && u, 'composing');
    await sim.cmd({ cmd: 'typing', from: CONTACT, chat: CONTACT, state: 'composing' });
    const u = await typing;
    const gone = nextUpdate(conn, (v) => v.presences && Object.values(v.presences).some((p) => p.lastKnownPresence === 'unavailable') && v, 'unavailable');
    await sim.cmd({ cmd: 'presence', from: CONTACT, presence: 'unavailable' });
    const v = await gone;
    return `${trim(u.presences)} then ${trim(v.presences)}`;
  });
  // Baileys 3.5.3 handles promote, demote and desc_add from `Chat` pushes (add/remove it took
  // from group stub messages only).
  await step('B6 group change', async () => {
    const got = within(STEP_TIMEOUT_MS, 'group-participants-update', new Promise((resolve) => conn.once('group-participants-update', resolve)));
    const chat = Object.values(conn.chats.dict || {}).map((c) => c.jid).find((j) => j.endsWith('@g.us')) || '4915100000000-1600000000@g.us';
    await sim.cmd({ cmd: 'group', action: 'promote', chat, actor: CONTACT, participants: [OTHER] });
    const u = await got;
    expect(u.action === 'promote' && u.participants.includes(OTHER), trim(u));
    return trim(u);
  });
  await step('B7 archive on the phone', async () => {
    const got = nextUpdate(conn, (u) => u.jid === CONTACT && 'archive' in u && u, 'an archive update');
    await sim.cmd({ cmd: 'phone_action', action: 'archive', chat: CONTACT });
    const u = await got;
    return trim(u);
  });
  await step('B8 blocklist', async () => {
    const got = within(STEP_TIMEOUT_MS, 'blocklist-update', new Promise((resolve) => conn.once('blocklist-update', resolve)));
    await sim.cmd({ cmd: 'block', jid: OTHER });
    const u = await got;
    expect(JSON.stringify(u).includes('4915100000002'), trim(u));
    return trim(u);
  });
  await step('B9 call (Baileys has no call API: the frame must not break the session)', async () => {
    await sim.cmd({ cmd: 'call', from: CONTACT });
    const got = newMessage(conn, (m) => m.message.conversation === 'still here', 'a text after the call');
    await sim.cmd({ cmd: 'send_text', from: CONTACT, text: 'still here' });
    await got;
    return `connection ${conn.state}`;
  });
}

// ---------------------------------------------------------------- C. wawebd -> simulator -> Baileys
async function partC(baileys, nodes) {
  const sim = startSim('sim2');
  const listening = await sim.wait((l) => l.type === 'listening', 'sim2 listening line', 10000);
  const dir = path.join(tmp, 'daemon');
  const socket = path.join(dir, 'wawebd.sock');
  const daemon = spawn(WAWEBD, ['--server-url', listening.ws_url, '--ca-file', sim.cert, '--socket', socket, '--state-dir', path.join(dir, 'state')],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, WAWEBD_LOG: 'warn', XDG_CONFIG_HOME: dir } });
  children.push(daemon);
  const t0 = Date.now();
  while (!fs.existsSync(socket) && Date.now() - t0 < 10000) await sleep(20);
  const client = rpc(socket);
  await step('C0 wawebd pairs with the second simulator', async () => {
    await client.call('subscribe', { events: ['qr', 'connected', 'message'] });
    await client.call('login', {});
    const qr = await client.event((e) => e.type === 'qr', 'a qr event');
    await sim.cmd({ cmd: 'scan', qr: qr.content });
    await client.event((e) => e.type === 'connected', 'connected');
    return 'connected';
  });
  await step('C1 Baileys downloads and decrypts an image wawebd sent', async () => {
    const image = crypto.randomBytes(70000);
    const file = path.join(tmp, 'noise.jpg');
    fs.writeFileSync(file, image);
    const mark = sim.lines.length;
    const sent = await client.call('send_media', { to: CONTACT, kind: 'image', path: file, caption: 'from wawebd' });
    const line = await relayed(sim, sent.id, mark);
    const media = line.messages[0].media;
    const b64 = (s) => Buffer.from(s, 'base64');
    const message = { key: { remoteJid: CONTACT, fromMe: true, id: sent.id }, message: { imageMessage: {
      url: media.url, mimetype: media.mimetype, mediaKey: b64(media.media_key), fileSha256: b64(media.file_sha256),
      fileEncSha256: b64(media.file_enc_sha256), fileLength: media.file_length } } };
    // Baileys downloads with got's default agent: trust the second simulator's certificate there.
    https.globalAgent.options.ca = [fs.readFileSync(sim.cert)];
    const plain = await baileys.conn.downloadMediaMessage(message);
    expect(Buffer.compare(plain, image) === 0, `Baileys decrypted ${plain.length} bytes, not the ${image.length} sent`);
    return `${plain.length} bytes, identical; sim media_ok ${line.media_ok}`;
  });
  // Node by node: what wawebd sends for a receipt, presence and typing against what Baileys sent.
  const same = (ours, theirs, ignore) => {
    const strip = (line) => ({ metric: line.metric, flags: line.flags, tag: line.node.tag, type: line.node.attrs.type,
      children: line.node.content.map((c) => ({ tag: c.tag, attrs: Object.fromEntries(Object.entries(c.attrs || {}).filter(([k]) => !ignore.includes(k))) })) });
    const a = JSON.stringify(strip(ours));
    const b = JSON.stringify(strip(theirs));
    expect(a === b, `wawebd ${a} vs Baileys ${b}`);
    return a;
  };
  let last;
  await step('C2 mark_read equals Baileys\' read receipt', async () => {
    const got = sim.lines.length;
    await sim.cmd({ cmd: 'send_text', from: CONTACT, text: 'read me' });
    last = await client.event((e) => e.type === 'message' && e.text === 'read me', 'the incoming text');
    const mark = sim.lines.length;
    await client.call('mark_read', { chat: CONTACT, message: { chat: CONTACT, id: last.id, from_me: false } });
    const ours = await receivedChild(sim, 'read', mark, 'wawebd read receipt');
    expect(got <= mark, 'order');
    if (!nodes.read) throw new Error('no Baileys read receipt to compare with (A7 failed)');
    return same(ours, nodes.read, ['index', 'count']);
  });
  for (const [name, method, params, presence] of [
    ['C3 set_presence available equals Baileys', 'set_presence', { presence: 'available' }, 'available'],
    ['C4 set_typing composing equals Baileys', 'set_typing', { chat: CONTACT, state: 'composing' }, 'composing'],
    ['C5 set_typing paused equals Baileys', 'set_typing', { chat: CONTACT, state: 'paused' }, 'paused'],
    ['C6 set_presence unavailable equals Baileys', 'set_presence', { presence: 'unavailable' }, 'unavailable'],
  ]) {
    await step(name, async () => {
      const mark = sim.lines.length;
      await client.call(method, params);
      const ours = await receivedChild(sim, 'presence', mark, `wawebd presence ${presence}`,
        (l) => l.node.content.some((c) => c.attrs && c.attrs.type === presence));
      if (!nodes[presence]) throw new Error(`no Baileys ${presence} node to compare with`);
      // Baileys puts `to` on every presence node, even available/unavailable (where it means nothing).
      const ignore = presence === 'available' || presence === 'unavailable' ? ['to'] : [];
      return same(ours, nodes[presence], ignore);
    });
  }
  client.close();
}

async function main() {
  const sim = startSim('sim');
  const baileys = await pairStep(sim);
  if (!baileys) return;
  const nodes = await partA(sim, baileys.conn);
  await partB(sim, baileys.conn);
  await partC(baileys, nodes);
  baileys.conn.close();
}

run(main);
