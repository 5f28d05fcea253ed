#!/usr/bin/env node
// Interop check: legacy Baileys (@adiwajshing/baileys 3.5.3, WAConnection) against `wawebd sim`.
//
//   node check.js [PATH_TO_WAWEBD]        (or WAWEBD=/path/to/wawebd node check.js)
//
// Steps: pair via QR, receive a text, send a text (server ack), restore with takeover,
// restore answered with a challenge. Prints PASS/FAIL per step; exits 1 on any failure.
// Env: BAILEYS_LOG=trace|debug|info|warn (Baileys' own log, to stderr; default warn),
//      SIM_LOG=1 (echo every sim stdout line to stderr), STEP_TIMEOUT_MS (default 20000).
'use strict';

const { spawn } = require('child_process');
const readline = require('readline');
const path = require('path');

const WAWEBD = process.argv[2] || process.env.WAWEBD || '/tmp/wawebd-sim';
const STEP_TIMEOUT_MS = +(process.env.STEP_TIMEOUT_MS || 20000);
const CONTACT = '4915100000001@s.whatsapp.net';
const INCOMING_TEXT = 'hello from the sim';
const OUTGOING_TEXT = 'hi sim';

const baileysMain = require.resolve('@adiwajshing/baileys');
const baileysRequire = (m) => require(require.resolve(m, { paths: [path.dirname(baileysMain)] }));
const Baileys = require('@adiwajshing/baileys');
const { WAConnection, MessageType } = Baileys;
// Baileys reads Constants.WS_URL at connect time (lib/WAConnection/3.Connect.js, `new ws(Constants_1.WS_URL, …)`),
// so pointing it at the simulator is a runtime assignment on the exports object; nothing on disk is edited.
const Constants = require('@adiwajshing/baileys/lib/WAConnection/Constants');
const pino = baileysRequire('pino');

const results = [];
let failed = false;
function report(step, ok, detail) {
  results.push({ step, ok });
  if (!ok) failed = true;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${step}${detail ? ' — ' + detail : ''}`);
}

function timeout(ms, what) {
  let timer;
  const p = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); });
  p.clear = () => clearTimeout(timer);
  return p;
}
async function within(ms, what, promise) {
  const t = timeout(ms, what);
  try { return await Promise.race([promise, t]); } finally { t.clear(); }
}

// ---------------------------------------------------------------- simulator
const sim = spawn(WAWEBD, ['sim', '--listen', '127.0.0.1:0'], { stdio: ['pipe', 'pipe', 'inherit'] });
const simLines = [];
const simWaiters = [];
let simExited = false;
sim.on('exit', (code, signal) => { simExited = true; if (!shuttingDown) console.error(`sim exited (code ${code}, signal ${signal})`); });
sim.on('error', (e) => { console.error(`cannot start ${WAWEBD}: ${e.message}`); process.exit(2); });
readline.createInterface({ input: sim.stdout }).on('line', (line) => {
  let obj;
  try { obj = JSON.parse(line); } catch { obj = { type: 'unparsed', line }; }
  if (process.env.SIM_LOG) console.error('sim> ' + line);
  simLines.push(obj);
  for (const w of [...simWaiters]) {
    if (w.pred(obj)) { simWaiters.splice(simWaiters.indexOf(w), 1); w.resolve(obj); }
  }
});
function simWait(pred, what, ms = STEP_TIMEOUT_MS, fromIndex = 0) {
  const seen = simLines.slice(fromIndex).find(pred);
  if (seen) return Promise.resolve(seen);
  return within(ms, what, new Promise((resolve) => simWaiters.push({ pred, resolve })));
}
async function simCmd(obj) {
  const mark = simLines.length;
  sim.stdin.write(JSON.stringify(obj) + '\n');
  const reply = await simWait((l) => (l.type === 'done' || l.type === 'error') && l.cmd === obj.cmd,
    `sim reply to ${obj.cmd}`, STEP_TIMEOUT_MS, mark);
  if (reply.type === 'error') throw new Error(`sim refused ${obj.cmd}: ${reply.message}`);
  return reply;
}
const trim = (o, n = 300) => { const s = JSON.stringify(o); return s.length > n ? s.slice(0, n) + '…' : s; };

// ---------------------------------------------------------------- baileys
function newConn() {
  const conn = new WAConnection();
  conn.logger = pino({ level: process.env.BAILEYS_LOG || 'warn' }, pino.destination(2)).child({ class: 'Baileys' });
  conn.connectOptions.logQR = false;      // no terminal QR rendering
  conn.connectOptions.maxRetries = 1;     // one attempt per step: a failure is a failure, not a retry loop
  conn.autoReconnect = Baileys.ReconnectMode.off;
  return conn;
}

let shuttingDown = false;
async function main() {
  const listening = await simWait((l) => l.type === 'listening', 'sim listening line', 10000);
  const url = new URL(listening.ws_url);
  if (!['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) throw new Error(`refusing non-loopback ${listening.ws_url}`);
  Constants.WS_URL = listening.ws_url;
  console.log(`sim listening on ${listening.ws_url}; Baileys ${require('@adiwajshing/baileys/package.json').version}`);

  // 1. pair via QR
  let conn = newConn();
  let auth;
  try {
    conn.on('qr', (qr) => {
      simCmd({ cmd: 'scan', qr }).catch((e) => console.error('scan: ' + e.message));
    });
    const opened = new Promise((resolve) => conn.once('open', resolve));
    const connecting = conn.connect();
    connecting.catch(() => {});
    const res = await within(STEP_TIMEOUT_MS, 'open after QR scan', Promise.race([opened, connecting]));
    const paired = simLines.find((l) => l.type === 'paired');
    report('1 pair via QR', conn.state === 'open' && !!conn.user,
      `user ${conn.user && conn.user.jid} (${conn.user && conn.user.name}); newConnection=${res && res.newConnection}; sim ${trim(paired)}`);
    auth = conn.base64EncodedAuthInfo();
  } catch (e) {
    report('1 pair via QR', false, e.message);
    return;
  }

  // 2. receive a text from a contact
  try {
    const got = new Promise((resolve) => {
      const onUpdate = (u) => {
        const msgs = u.messages ? u.messages.all() : [];
        const m = msgs.find((m) => !m.key.fromMe && m.message &&
          (m.message.conversation || (m.message.extendedTextMessage || {}).text) === INCOMING_TEXT);
        if (m) { conn.off('chat-update', onUpdate); resolve(m); }
      };
      conn.on('chat-update', onUpdate);
    });
    const done = await simCmd({ cmd: 'send_text', from: CONTACT, text: INCOMING_TEXT });
    const m = await within(STEP_TIMEOUT_MS, 'chat-update with the incoming text', got);
    report('2 receive text', m.key.remoteJid === CONTACT,
      `chat-update key=${trim(m.key)} text=${JSON.stringify(m.message.conversation || m.message.extendedTextMessage.text)}; sim ${trim(done)}`);
  } catch (e) {
    report('2 receive text', false, e.message);
  }

  // 3. send a text, server ack (then, as the phone would, delivery and read acks: Msg cmd:ack)
  const statusSeen = {};   // message id -> statuses seen in chat-update, in order
  conn.on('chat-update', (u) => {
    for (const m of (u.messages ? u.messages.all() : [])) {
      if (m.key.fromMe) (statusSeen[m.key.id] = statusSeen[m.key.id] || []).push(m.status);
    }
  });
  let sentId;
  try {
    const mark = simLines.length;
    const sent = await within(STEP_TIMEOUT_MS, 'sendMessage to resolve (server ack)',
      conn.sendMessage(CONTACT, OUTGOING_TEXT, MessageType.text));
    const recv = await simWait((l) => l.type === 'received' && Array.isArray(l.messages) && l.messages[0] &&
      l.messages[0].text === OUTGOING_TEXT, 'sim received line with the text', 5000, mark);
    report('3 send text + server ack', sent.status >= Baileys.WA_MESSAGE_STATUS_TYPE.SERVER_ACK && recv.tag === sent.key.id,
      `id=${sent.key.id} status=${sent.status} (SERVER_ACK=${Baileys.WA_MESSAGE_STATUS_TYPE.SERVER_ACK}); sim ${trim({ tag: recv.tag, metric: recv.metric, flags: recv.flags, messages: recv.messages })}`);
    sentId = sent.key.id;
  } catch (e) {
    report('3 send text + server ack', false, e.message);
  }

  // 3b. the phone's delivery and read receipts reach Baileys (PROTOCOL.md 3.7; Baileys maps Msg ack N to status N+1)
  if (sentId) {
    const READ = Baileys.WA_MESSAGE_STATUS_TYPE.READ;
    const t0 = Date.now();
    while (!(statusSeen[sentId] || []).includes(READ) && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 100));
    const seen = statusSeen[sentId] || [];
    report('3b delivery + read acks', seen.includes(Baileys.WA_MESSAGE_STATUS_TYPE.DELIVERY_ACK) && seen.includes(READ),
      `statuses seen for ${sentId}: ${JSON.stringify(seen)} (DELIVERY_ACK=3, READ=4)`);
  }

  // 3c. keepalive: Baileys sends `?,,` (every 20 s) and expects a `!<ms>` text frame back, else drops the link
  try {
    const pong = new Promise((resolve) => conn.once('received-pong', resolve));
    conn.send('?,,');
    await within(5000, 'pong', pong);
    const skew = Math.abs(conn.lastSeen.getTime() - Date.now());
    report('3c keepalive pong', skew < 60000, `lastSeen=${conn.lastSeen.toISOString()} (|skew| ${skew} ms)`);
  } catch (e) {
    report('3c keepalive pong', false, e.message);
  }

  // 4. restore with takeover on a new connection (and 5. restore answered with a challenge)
  auth = conn.base64EncodedAuthInfo();
  conn.close();
  for (const [step, challenge] of [['4 restore (takeover)', false], ['5 restore with challenge', true]]) {
    try {
      if (challenge) await simCmd({ cmd: 'challenge_next' });
      await new Promise((r) => setTimeout(r, 300));
      const mark = simLines.length;
      conn = newConn();
      conn.loadAuthInfo(auth);
      let sawQr = false;
      conn.on('qr', () => { sawQr = true; });
      const res = await within(STEP_TIMEOUT_MS, 'open after restore', conn.connect());
      const login = await simWait((l) => l.type === 'logged_in', 'sim logged_in line', 5000, mark);
      const loginFrame = simLines.slice(mark).find((l) => l.type === 'received' && Array.isArray(l.json) && l.json[1] === 'login');
      const chFrame = simLines.slice(mark).find((l) => l.type === 'received' && Array.isArray(l.json) && l.json[1] === 'challenge');
      const ok = conn.state === 'open' && !sawQr && login.restored === true && (!challenge || (login.challenged === true && !!chFrame));
      report(step, ok, `user ${conn.user && conn.user.jid}; login frame ${trim(loginFrame && loginFrame.json.slice(0, 2).concat(['…'], loginFrame.json.slice(5)))}` +
        (chFrame ? `; challenge reply ${trim(chFrame.json.slice(0, 2))}` : '') + `; sim ${trim(login)}`);
      auth = conn.base64EncodedAuthInfo();   // tokens rotate on every login
      if (!challenge) {
        // 4b. takeover while this connection is still open: the old one must get Cmd disconnect kind=replaced
        const old = conn;
        const oldClosed = new Promise((resolve) => old.once('close', resolve));
        try {
          const mark2 = simLines.length;
          conn = newConn();
          conn.loadAuthInfo(auth);
          await within(STEP_TIMEOUT_MS, 'open of the taking-over connection', conn.connect());
          const closed = await within(5000, "old connection's close event", oldClosed);
          const login2 = await simWait((l) => l.type === 'logged_in', 'sim logged_in line', 5000, mark2);
          report('4b live takeover (old conn replaced)', conn.state === 'open' && closed.reason === 'replaced',
            `old connection closed with reason ${JSON.stringify(closed.reason)}; sim ${trim(login2)}`);
          auth = conn.base64EncodedAuthInfo();
        } catch (e) {
          report('4b live takeover (old conn replaced)', false, e.message);
          try { old.close(); } catch { /* ignore */ }
        }
      }
      conn.close();
    } catch (e) {
      report(step, false, e.message);
      try { conn.close(); } catch { /* ignore */ }
    }
  }
}

main()
  .catch((e) => report('run', false, e.stack || e.message))
  .finally(() => {
    shuttingDown = true;
    console.log(failed ? `FAILED (${results.filter((r) => !r.ok).length} of ${results.length} steps)` : `ALL ${results.length} STEPS PASSED`);
    const code = failed ? 1 : 0;
    if (simExited) process.exit(code);
    sim.once('exit', () => process.exit(code));
    sim.kill('SIGTERM');
    setTimeout(() => { sim.kill('SIGKILL'); setTimeout(() => process.exit(code), 200); }, 3000);
  });
