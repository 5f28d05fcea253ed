#!/usr/bin/env node
// Interop check for groups (issue 12): legacy Baileys 3.5.3's group calls against `wawebd sim --tls`.
//
//   node groups.js [PATH_TO_WAWEBD]   (or WAWEBD=… node groups.js)
//
// Each Baileys call (groupMetadata, groupCreate, groupAdd, groupRemove, groupMakeAdmin,
// groupDemoteAdmin, groupUpdateSubject, groupUpdateDescription, groupSettingChange,
// groupInviteCode, revokeInvite, groupLeave, acceptInvite) must get the reply shape Baileys
// parses, and its effect is checked against the simulator's state through a fresh
// `GroupMetadata` query (fetchGroupMetadataFromWA, bypassing Baileys' cache). Refusals (not a
// member, not an admin, unknown group, bad code) must reach Baileys as errors with the status.
// Prints PASS/FAIL per step; exits 1 on any failure. Env as check.js.
'use strict';
const {
  CONTACT, OTHER, Baileys, within, trim, STEP_TIMEOUT_MS, startSim, step, expect, run,
  pairStep,
} = require('./lib');

const GROUP = '4915100000000-1600000000@g.us';
const DAVE = '4915100000004@s.whatsapp.net';
const cus = (jid) => jid.replace('@s.whatsapp.net', '@c.us');

// What the simulator says about the group now (not Baileys' cached copy).
const fresh = (conn, gid) => conn.fetchGroupMetadataFromWA(gid);
const member = (meta, jid) => meta.participants.find((p) => p.id === cus(jid) || p.id === jid);
// The status of a call that must fail.
async function refusal(promise) {
  try { await promise; } catch (e) { return e.status; }
  throw new Error('the call succeeded');
}
const groupUpdate = (conn, pred, what) => within(STEP_TIMEOUT_MS, what, new Promise((resolve) => {
  const on = (u) => { if (pred(u)) { conn.off('group-update', on); resolve(u); } };
  conn.on('group-update', on);
}));

async function main() {
  const sim = startSim('sim');
  const baileys = await pairStep(sim);
  if (!baileys) return;
  const { conn } = baileys;
  const me = conn.user.jid;
  let gid;
  let code;

  await step('1 groupMetadata of the phone\'s group', async () => {
    const meta = await conn.groupMetadata(GROUP);
    expect(meta.subject === 'Sim Friends' && meta.participants.length === 4, trim(meta));
    expect(member(meta, me).isSuperAdmin && member(meta, me).isAdmin, `own role ${trim(member(meta, me))}`);
    expect(meta.creation === 1600000000 && meta.owner === cus(me), trim(meta));
    return `${meta.subject}, ${meta.participants.length} participants`;
  });
  await step('2 groupCreate (gid, per-participant codes; Baileys reads its metadata at once)', async () => {
    const res = await conn.groupCreate('Interop', [CONTACT, OTHER]);
    gid = res.gid;
    expect(res.status === 200 && /^4915100000000-\d+@g\.us$/.test(gid), trim(res));
    expect(Array.isArray(res.participants) && res.participants.length === 2, trim(res));
    const meta = await fresh(conn, gid);
    expect(meta.subject === 'Interop' && meta.participants.length === 3 && member(meta, me).isSuperAdmin, trim(meta));
    return `${gid}: ${trim(res.participants)}`;
  });
  if (!gid) return;
  await step('3 groupAdd (a new one 200, one already in 409)', async () => {
    const res = await conn.groupAdd(gid, [DAVE, CONTACT]);
    expect(res.status === 200 && res.participants[cus(DAVE)].code === '200' && res.participants[cus(CONTACT)].code === '409', trim(res));
    expect(member(await fresh(conn, gid), DAVE), 'Dave is not in the sim\'s group');
    return trim(res.participants);
  });
  await step('4 groupRemove', async () => {
    const res = await conn.groupRemove(gid, [DAVE]);
    expect(res.participants[cus(DAVE)].code === '200', trim(res));
    expect(!member(await fresh(conn, gid), DAVE), 'Dave is still in the sim\'s group');
    return trim(res.participants);
  });
  await step('5 groupMakeAdmin / groupDemoteAdmin', async () => {
    await conn.groupMakeAdmin(gid, [CONTACT]);
    expect(member(await fresh(conn, gid), CONTACT).isAdmin, 'not an admin after promote');
    await conn.groupDemoteAdmin(gid, [CONTACT]);
    expect(!member(await fresh(conn, gid), CONTACT).isAdmin, 'still an admin after demote');
    return 'promoted and demoted';
  });
  await step('6 groupUpdateSubject', async () => {
    await conn.groupUpdateSubject(gid, 'Interop renamed');
    const meta = await fresh(conn, gid);
    expect(meta.subject === 'Interop renamed' && meta.subjectOwner === cus(me), trim(meta));
    return meta.subject;
  });
  await step('7 groupUpdateDescription twice (the desc_add push keeps Baileys\' descId current)', async () => {
    const pushed = groupUpdate(conn, (u) => u.jid === gid && u.desc === 'first', 'the desc_add push');
    await conn.groupUpdateDescription(gid, 'first');
    const update = await pushed;
    let meta = await fresh(conn, gid);
    expect(meta.desc === 'first' && meta.descId === update.descId, `${trim(meta)} vs push ${trim(update)}`);
    await conn.groupUpdateDescription(gid, 'second');
    meta = await fresh(conn, gid);
    expect(meta.desc === 'second' && meta.descId !== update.descId, trim(meta));
    return `descId ${meta.descId}`;
  });
  await step('8 groupSettingChange announcement / locked', async () => {
    await conn.groupSettingChange(gid, Baileys.GroupSettingChange.messageSend, true);
    await conn.groupSettingChange(gid, Baileys.GroupSettingChange.settingsChange, true);
    let meta = await fresh(conn, gid);
    expect(meta.announce === 'true' && meta.restrict === 'true', trim(meta));
    await conn.groupSettingChange(gid, Baileys.GroupSettingChange.messageSend, false);
    meta = await fresh(conn, gid);
    expect(meta.announce === 'false' && meta.restrict === 'true', trim(meta));
    return `announce ${meta.announce}, restrict ${meta.restrict}`;
  });
  await step('9 groupInviteCode and revokeInvite', async () => {
    const first = await conn.groupInviteCode(gid);
    expect(typeof first === 'string' && first.length >= 16, `code ${first}`);
    expect(await conn.groupInviteCode(gid) === first, 'the code changed by itself');
    const reset = await conn.revokeInvite(gid);
    expect(reset.status === 200 && reset.code && reset.code !== first, trim(reset));
    expect(await conn.groupInviteCode(gid) === reset.code, 'inviteCode does not give the new code');
    code = reset.code;
    const old = await refusal(conn.acceptInvite(first));
    expect(old === 404, `the revoked code: status ${old}`);
    return `new code ${code.length} characters; the old one 404`;
  });
  await step('10 groupLeave, then no metadata (401) but the minimal query still answers', async () => {
    await conn.groupLeave(gid);
    const status = await refusal(fresh(conn, gid));
    expect(status === 401, `GroupMetadata after leaving: status ${status}`);
    const chat = conn.chats.get(gid);
    if (chat) delete chat.metadata;   // so Baileys asks again, with `query group` for a left chat
    const minimal = await conn.groupMetadata(gid);
    expect(minimal.owner === me || minimal.owner === cus(me), `owner ${trim(minimal)}`);
    expect(!minimal.participants.some((p) => p.jid === me), `still listed ${trim(minimal.participants)}`);
    return `minimal: ${minimal.participants.length} participants, desc ${JSON.stringify(minimal.desc)}`;
  });
  await step('11 acceptInvite joins again (and twice is 409)', async () => {
    const res = await conn.acceptInvite(code);
    expect(res.status === 200 && res.gid === gid, trim(res));
    expect(member(await fresh(conn, gid), me), 'not in the sim\'s group after joining');
    const again = await refusal(conn.acceptInvite(code));
    expect(again === 409, `joining twice: status ${again}`);
    return `joined ${res.gid}`;
  });
  await step('12 refusals: not an admin (401), unknown group (404)', async () => {
    const meta = await fresh(conn, gid);
    expect(!member(meta, me).isAdmin, `own role ${trim(member(meta, me))}`);
    const add = await refusal(conn.groupAdd(gid, [DAVE]));
    const setting = await refusal(conn.groupSettingChange(gid, Baileys.GroupSettingChange.messageSend, true));
    const invite = await refusal(conn.groupInviteCode(gid));
    const locked = await refusal(conn.groupUpdateSubject(gid, 'Not mine'));   // restrict is on
    const unknown = await refusal(fresh(conn, '4915100000000-1@g.us'));
    expect(add === 401 && setting === 401 && invite === 401 && locked === 401, `${add} ${setting} ${invite} ${locked}`);
    expect(unknown === 404, `unknown group: ${unknown}`);
    expect(!member(await fresh(conn, gid), DAVE), 'a refused add changed the group');
    return 'add, setting, invite code, subject: 401; unknown: 404';
  });
  conn.close();
}

run(main);
