// Shared pieces of the interop checks: the simulator as a child process, Baileys connections
// against it, wawebd's socket, and PASS/FAIL steps. Each check requires this and runs its parts.
'use strict';

const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const https = require('https');
const net = require('net');
const os = require('os');
const path = require('path');
const readline = require('readline');
const tls = require('tls');

const WAWEBD = process.argv[2] || process.env.WAWEBD || '/tmp/wawebd-sim';
const STEP_TIMEOUT_MS = +(process.env.STEP_TIMEOUT_MS || 20000);
const CONTACT = '4915100000001@s.whatsapp.net';
const OTHER = '4915100000002@s.whatsapp.net';

const baileysMain = require.resolve('@adiwajshing/baileys');
const baileysRequire = (m) => require(require.resolve(m, { paths: [path.dirname(baileysMain)] }));
const Baileys = require('@adiwajshing/baileys');
const { WAConnection, MessageType, Presence } = Baileys;
const Constants = require('@adiwajshing/baileys/lib/WAConnection/Constants');
const pino = baileysRequire('pino');

const results = [];
let failed = false;
function report(step, ok, detail) {
  results.push({ step, ok });
  if (!ok) failed = true;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${step}${detail ? ' — ' + detail : ''}`);
}
async function within(ms, what, promise) {
  let timer;
  const t = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms); });
  try { return await Promise.race([promise, t]); } finally { clearTimeout(timer); }
}
const trim = (o, n = 300) => { const s = JSON.stringify(o); return s && s.length > n ? s.slice(0, n) + '…' : s; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'waweb-interop-'));
const children = [];

// ---------------------------------------------------------------- simulators
function startSim(name) {
  const cert = path.join(tmp, `${name}.pem`);
  const child = spawn(WAWEBD, ['sim', '--listen', '127.0.0.1:0', '--tls', '--cert-out', cert], { stdio: ['pipe', 'pipe', 'inherit'] });
  children.push(child);
  const sim = { child, lines: [], waiters: [], cert };
  child.on('error', (e) => { console.error(`cannot start ${WAWEBD}: ${e.message}`); process.exit(2); });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let obj;
    try { obj = JSON.parse(line); } catch { obj = { type: 'unparsed', line }; }
    if (process.env.SIM_LOG) console.error(`${name}> ${line}`);
    sim.lines.push(obj);
    for (const w of [...sim.waiters]) {
      if (w.pred(obj)) { sim.waiters.splice(sim.waiters.indexOf(w), 1); w.resolve(obj); }
    }
  });
  sim.wait = (pred, what, ms = STEP_TIMEOUT_MS, from = 0) => {
    const seen = sim.lines.slice(from).find(pred);
    if (seen) return Promise.resolve(seen);
    return within(ms, what, new Promise((resolve) => sim.waiters.push({ pred, resolve })));
  };
  sim.cmd = async (obj) => {
    const mark = sim.lines.length;
    child.stdin.write(JSON.stringify(obj) + '\n');
    const reply = await sim.wait((l) => (l.type === 'done' || l.type === 'error') && l.cmd === obj.cmd, `sim reply to ${obj.cmd}`, STEP_TIMEOUT_MS, mark);
    if (reply.type === 'error') throw new Error(`sim refused ${obj.cmd}: ${reply.message}`);
    return reply;
  };
  return sim;
}
// The first `received` line after `mark` whose node is an action with a child of `childTag`.
const receivedChild = (sim, childTag, mark, what, extra = () => true) => sim.wait((l) =>
  l.type === 'received' && l.node && l.node.tag === 'action' && Array.isArray(l.node.content) &&
  l.node.content.some((c) => c.tag === childTag) && extra(l), what, STEP_TIMEOUT_MS, mark);
// The message the simulator decoded from a relay sent after `mark` with id `id`.
const relayed = (sim, id, mark) => sim.wait((l) => l.type === 'received' && l.tag === id && Array.isArray(l.messages),
  `the sim's received line for ${id}`, STEP_TIMEOUT_MS, mark);

// ---------------------------------------------------------------- baileys
function newConn(agent) {
  const conn = new WAConnection();
  conn.logger = pino({ level: process.env.BAILEYS_LOG || 'warn' }, pino.destination(2)).child({ class: 'Baileys' });
  conn.connectOptions.logQR = false;
  conn.connectOptions.maxRetries = 1;
  conn.connectOptions.agent = agent;        // wss to the simulator's self-signed certificate
  conn.connectOptions.fetchAgent = agent;   // its media host (uploads, downloads)
  conn.autoReconnect = Baileys.ReconnectMode.off;
  return conn;
}
async function pairBaileys(sim) {
  const listening = await sim.wait((l) => l.type === 'listening', 'sim listening line', 10000);
  const url = new URL(listening.ws_url);
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing non-loopback ${listening.ws_url}`);
  Constants.WS_URL = listening.ws_url;
  // Baileys sends `Host: web.whatsapp.com`, which ws uses as the TLS name: check the simulator's
  // certificate (pinned as the only CA) against the loopback address it was made for instead.
  const agent = new https.Agent({ ca: fs.readFileSync(sim.cert), checkServerIdentity: (_, cert) => tls.checkServerIdentity('127.0.0.1', cert) });
  const conn = newConn(agent);
  conn.on('qr', (qr) => { sim.cmd({ cmd: 'scan', qr }).catch((e) => console.error('scan: ' + e.message)); });
  await within(STEP_TIMEOUT_MS, 'Baileys open after the QR scan', conn.connect());
  return { conn, agent };
}
// Step 0 of a check: Baileys pairs with the simulator; null when it could not (the step FAILed).
async function pairStep(sim) {
  let baileys = null;
  await step('0 Baileys pairs with the simulator (wss)', async () => {
    baileys = await pairBaileys(sim);
    return `user ${baileys.conn.user.jid}`;
  });
  return baileys;
}
const nextUpdate = (conn, pred, what) => within(STEP_TIMEOUT_MS, what, new Promise((resolve) => {
  const on = (u) => { const hit = pred(u); if (hit) { conn.off('chat-update', on); resolve(hit); } };
  conn.on('chat-update', on);
}));
const newMessage = (conn, pred, what) => nextUpdate(conn, (u) => {
  const msgs = u.messages ? u.messages.all() : [];
  return msgs.find((m) => m.message && pred(m));
}, what);

// A step: runs `body`, reports PASS with its detail string or FAIL with the error.
async function step(name, body) {
  try {
    const detail = await body();
    report(name, true, detail);
  } catch (e) {
    report(name, false, e.message);
  }
}
function expect(cond, what) { if (!cond) throw new Error(what); }

// ---------------------------------------------------------------- A. Baileys -> simulator
function rpc(socket) {
  const sock = net.connect(socket);
  const pending = new Map();
  const events = [];
  const eventWaiters = [];
  let id = 0;
  readline.createInterface({ input: sock }).on('line', (line) => {
    const msg = JSON.parse(line);
    if (msg.method === 'event') {
      events.push(msg.params);
      for (const w of [...eventWaiters]) if (w.pred(msg.params)) { eventWaiters.splice(eventWaiters.indexOf(w), 1); w.resolve(msg.params); }
    } else if (pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
  });
  return {
    call: (method, params) => within(STEP_TIMEOUT_MS * 2, method, new Promise((resolve, reject) => {
      const n = ++id;
      pending.set(n, (msg) => (msg.error ? reject(new Error(`${method}: ${JSON.stringify(msg.error)}`)) : resolve(msg.result)));
      sock.write(JSON.stringify({ jsonrpc: '2.0', id: n, method, params }) + '\n');
    })),
    event: (pred, what) => {
      const seen = events.find(pred);
      return seen ? Promise.resolve(seen) : within(STEP_TIMEOUT_MS, what, new Promise((resolve) => eventWaiters.push({ pred, resolve })));
    },
    close: () => sock.end(),
  };
}
// Runs `main`, prints the summary, stops every child and exits 1 on any failure.
function run(main) {
  main()
    .catch((e) => report('run', false, e.stack || e.message))
    .finally(async () => {
      console.log(failed ? `FAILED (${results.filter((r) => !r.ok).length} of ${results.length} steps)` : `ALL ${results.length} STEPS PASSED`);
      for (const child of children) child.kill('SIGTERM');
      await sleep(500);
      for (const child of children) child.kill('SIGKILL');
      fs.rmSync(tmp, { recursive: true, force: true });
      process.exit(failed ? 1 : 0);
    });
}

module.exports = {
  WAWEBD, STEP_TIMEOUT_MS, CONTACT, OTHER, Baileys, WAConnection, MessageType, Presence, Constants,
  report, within, trim, sleep, tmp, children, startSim, receivedChild, relayed, newConn, pairBaileys, pairStep,
  nextUpdate, newMessage, step, expect, rpc, run, spawn, crypto, fs, https, net, os, path, readline, tls,
};
