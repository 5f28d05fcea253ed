#!/usr/bin/env node
// Interop check for profiles (issue 12): legacy Baileys 3.5.3 against `wawebd sim --tls`.
//
//   node profile.js [PATH_TO_WAWEBD]   (or WAWEBD=… node profile.js)
//
// Baileys' own profile calls, each checked against what the simulated phone then holds (the
// sim's `profile` command): isOnWhatsApp, getProfilePicture (and the JPEG at its eurl),
// updateProfilePicture, getStatus, setStatus, updateProfileName, blockUser (add and remove).
// Prints PASS/FAIL per step; exits 1 on any failure. Env as check.js (BAILEYS_LOG, SIM_LOG,
// STEP_TIMEOUT_MS).
'use strict';
const {
  CONTACT, OTHER, startSim, pairStep, step, expect, run, trim, https,
} = require('./lib');

const jimp = require(require.resolve('jimp', { paths: [require('path').dirname(require.resolve('@adiwajshing/baileys'))] }));
const NOBODY = '4915100000099@s.whatsapp.net';
const cus = (jid) => jid.replace('@s.whatsapp.net', '@c.us');

// GET over the simulator's pinned certificate; the body as a Buffer.
function fetch(url, agent) {
  return new Promise((resolve, reject) => {
    https.get(url, { agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`GET ${url}: ${res.statusCode}`))));
    }).on('error', reject);
  });
}
const isJpeg = (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

async function main() {
  const sim = startSim('sim');
  const baileys = await pairStep(sim);
  if (!baileys) return;
  const { conn, agent } = baileys;
  const me = conn.user.jid;
  const state = async (jid) => sim.cmd({ cmd: 'profile', jid });

  await step('1 isOnWhatsApp: a contact exists, an unknown number does not', async () => {
    const yes = await conn.isOnWhatsApp(CONTACT);
    expect(yes && yes.exists && yes.jid === CONTACT && yes.isBusiness === false, `contact: ${trim(yes)}`);
    const no = await conn.isOnWhatsApp(NOBODY);
    expect(no === undefined, `unknown: ${trim(no)}`);
    await sim.cmd({ cmd: 'on_whatsapp', number: NOBODY, business: true });
    const now = await conn.isOnWhatsApp(NOBODY);
    expect(now && now.exists && now.isBusiness === true, `added: ${trim(now)}`);
    return `contact ${trim(yes)}, added ${trim(now)}`;
  });

  await step('2 getProfilePicture: a contact\'s eurl serves a JPEG; no picture is an error', async () => {
    const url = await conn.getProfilePicture(CONTACT);
    const held = await state(CONTACT);
    expect(url === held.picture, `Baileys ${url}, sim ${held.picture}`);
    const body = await fetch(url, agent);
    expect(isJpeg(body), 'the eurl does not serve a JPEG');
    let refused;
    await conn.getProfilePicture(OTHER).catch((e) => { refused = e; });
    expect(refused && refused.status === 404, `no picture: ${refused && refused.status}`);
    return `${body.length} bytes at ${url}`;
  });

  await step('3 updateProfilePicture: the sim checks 640x640 + 96x96 and serves it back', async () => {
    const source = await new jimp(900, 500, 0x3366ccff).getBufferAsync(jimp.MIME_PNG);
    await conn.updateProfilePicture(me, source);
    const held = await state(me);
    expect(held.picture && held.picture === conn.user.imgUrl, `sim ${held.picture}, Baileys ${conn.user.imgUrl}`);
    const url = await conn.getProfilePicture(me);
    expect(url === held.picture, `read back ${url}`);
    const served = await jimp.read(await fetch(url, agent));
    expect(served.getWidth() === 640 && served.getHeight() === 640, `served ${served.getWidth()}x${served.getHeight()}`);
    return `served 640x640 at ${url}`;
  });

  await step('4 getStatus / setStatus', async () => {
    const theirs = await conn.getStatus(CONTACT);
    expect(theirs.status === (await state(CONTACT)).about, `contact ${trim(theirs)}`);
    await conn.setStatus('Am Strand 🌊');
    const held = await state(me);
    expect(held.about === 'Am Strand 🌊', `sim about ${trim(held.about)}`);
    const ours = await conn.getStatus();
    expect(ours.status === 'Am Strand 🌊', `read back ${trim(ours)}`);
    return `contact "${theirs.status}", ours "${ours.status}"`;
  });

  await step('5 updateProfileName', async () => {
    const reply = await conn.updateProfileName('Neu Name');
    expect(reply.status === 200 && reply.pushname === 'Neu Name', `reply ${trim(reply)}`);
    expect(conn.user.name === 'Neu Name', `Baileys user.name ${conn.user.name}`);
    const held = await state(me);
    expect(held.pushname === 'Neu Name', `sim pushname ${held.pushname}`);
    return `pushname ${held.pushname}`;
  });

  await step('6 blockUser add / remove', async () => {
    await conn.blockUser(OTHER, 'add');
    let held = await state(me);
    expect(held.blocklist.includes(cus(OTHER)), `after add: ${trim(held.blocklist)}`);
    expect(conn.blocklist.includes(OTHER), `Baileys' list ${trim(conn.blocklist)}`);
    await conn.blockUser(OTHER, 'remove');
    held = await state(me);
    expect(!held.blocklist.includes(cus(OTHER)), `after remove: ${trim(held.blocklist)}`);
    return `sim blocklist ${trim(held.blocklist)}`;
  });

  conn.close();
}

run(main);
