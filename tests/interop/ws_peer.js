// A scripted WebSocket peer on Node's `ws` (Debian's node-ws 8.x), to check
// tern's echo programs against it. Run with NODE_PATH=/usr/share/nodejs.
//
//   node ws_peer.js server [--cert F --key F]   prints "listening on PORT";
//       for each connection to /<scenario>/<close> runs the scenario and
//       prints "RESULT /<scenario>/<close> OK" or "... FAIL <why>".
//   node ws_peer.js client URL [--ca F] --scenario S --close C
//       runs the scenario against URL; prints OK or FAIL <why>; exit 0 / 1.
//
// Scenarios: "full" (text, binary, 0 B to 16 MiB, fragments with a ping
// between them and a UTF-8 character split across fragments, ping/pong),
// "short" (one message), "badutf8" (an invalid UTF-8 text message: the tern
// side must close with 1007). C is a close code, or "none" for a Close frame
// without a status (the echo then reads as 1005).
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const crypto = require('crypto');
const { WebSocket, WebSocketServer } = require('ws');

const TIMEOUT_MS = 30000;
const MAX = 64 << 20;

function randomBytes(n) { return crypto.randomBytes(n); }

// Each step: {send: [[Buffer|string, isBinary], ...fragments], between: [ping payloads]}
// or {ping: Buffer}.
function steps(scenario) {
  if (scenario === 'short') return [{ send: [['one message', false]] }];
  if (scenario === 'badutf8') return [{ send: [[Buffer.from([0x68, 0x69, 0xc3, 0x28]), false]], expectClose: 1007 }];
  if (scenario !== 'full') throw new Error('unknown scenario ' + scenario);
  const out = [
    { send: [['hello', false]] },
    { send: [['', false]] },
    { send: [[Buffer.alloc(0), true]] },
  ];
  for (const n of [1, 125, 126, 127, 65535, 65536, 65537]) out.push({ send: [[randomBytes(n), true]] });
  out.push({ send: [['héllo wörld € 𝄞 ✓', false]] });
  out.push({ send: [['tern€𝄞'.repeat(1 << 17), false]] });
  out.push({ send: [[randomBytes(1 << 20), true]] });
  out.push({ ping: Buffer.from('ping payload') });
  out.push({ send: [[randomBytes(16 << 20), true]] });
  // "€" is e2 82 ac: split it across two text fragments (RFC 6455 §5.6: the
  // whole message must be valid UTF-8, not each fragment).
  const euro = Buffer.from('a€b');
  out.push({ send: [[euro.subarray(0, 2), false], [euro.subarray(2), false]] });
  // A ping between fragments (RFC 6455 §5.4: control frames may be interleaved).
  out.push({ send: [[randomBytes(70000), true], [randomBytes(3), true], [Buffer.alloc(0), true]],
             pingBetween: Buffer.from('mid-message') });
  out.push({ ping: Buffer.alloc(0) });
  out.push({ send: [['after the pings', false]] });
  return out;
}

// Queues of received messages and pongs, awaited one at a time.
function inbox(ws) {
  const box = { messages: [], pongs: [], waiters: [], closed: null };
  const wake = () => { const w = box.waiters; box.waiters = []; w.forEach((f) => f()); };
  ws.on('message', (data, isBinary) => { box.messages.push([data, isBinary]); wake(); });
  ws.on('pong', (data) => { box.pongs.push(data); wake(); });
  ws.on('close', (code, reason) => { box.closed = [code, reason.toString()]; wake(); });
  ws.on('error', (e) => { box.error = e; wake(); });
  box.next = (what) => new Promise((resolve, reject) => {
    const check = () => {
      if (box[what].length) return resolve(box[what].shift());
      if (box.closed) return reject(new Error(`closed (${box.closed[0]}) while waiting for ${what}`));
      box.waiters.push(check);
    };
    check();
  });
  box.waitClose = () => new Promise((resolve) => {
    const check = () => (box.closed ? resolve(box.closed) : box.waiters.push(check));
    check();
  });
  return box;
}

async function runScenario(ws, box, scenario, close) {
  let i = 0;
  for (const step of steps(scenario)) {
    i++;
    if (step.ping) {
      ws.ping(step.ping);
      const got = await box.next('pongs');
      if (!got.equals(step.ping)) throw new Error(`step ${i}: pong payload differs`);
      continue;
    }
    const frags = step.send;
    frags.forEach(([data, isBinary], k) => {
      const fin = k === frags.length - 1;
      ws.send(data, { binary: isBinary, fin });
      if (k === 0 && step.pingBetween) ws.ping(step.pingBetween);
    });
    if (step.expectClose) {
      const [code] = await box.waitClose();
      if (code !== step.expectClose) throw new Error(`expected close ${step.expectClose}, got ${code}`);
      return;
    }
    if (step.pingBetween) {
      const pong = await box.next('pongs');
      if (!pong.equals(step.pingBetween)) throw new Error(`step ${i}: pong payload differs`);
    }
    const [data, isBinary] = await box.next('messages');
    const want = Buffer.concat(frags.map(([d]) => Buffer.from(d)));
    if (isBinary !== frags[0][1]) throw new Error(`step ${i}: echo binary=${isBinary}, sent binary=${frags[0][1]}`);
    if (!Buffer.from(data).equals(want)) throw new Error(`step ${i}: echo differs (${data.length} B vs ${want.length} B)`);
  }
  if (close === 'none') {
    ws.close();
  } else {
    ws.close(Number(close), `bye ${close}`);
  }
  const [code] = await box.waitClose();
  const want = close === 'none' ? 1005 : Number(close);
  if (code !== want) throw new Error(`sent close ${close}, peer answered ${code}`);
}

function guarded(ws, box, scenario, close) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
  });
  return Promise.race([runScenario(ws, box, scenario, close), timeout])
    .then(() => 'OK', (e) => 'FAIL ' + e.message)
    .finally(() => { clearTimeout(timer); ws.terminate(); });
}

function parse(argv) {
  const args = { positional: [] };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i].startsWith('--')) args[argv[i].slice(2)] = argv[++i];
    else args.positional.push(argv[i]);
  }
  return args;
}

function main() {
  const args = parse(process.argv.slice(2));
  const mode = args.positional[0];
  if (mode === 'server') {
    const server = args.cert
      ? https.createServer({ cert: fs.readFileSync(args.cert), key: fs.readFileSync(args.key) })
      : http.createServer();
    const wss = new WebSocketServer({ server, maxPayload: MAX, perMessageDeflate: false });
    wss.on('connection', (ws, req) => {
      const box = inbox(ws);
      const [scenario, close] = req.url.replace(/^\//, '').split('/');
      guarded(ws, box, scenario, close).then((r) => console.log(`RESULT ${req.url} ${r}`));
    });
    server.listen(0, '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
  } else if (mode === 'client') {
    const url = args.positional[1];
    const opts = { maxPayload: MAX, perMessageDeflate: false, handshakeTimeout: 10000 };
    if (args.ca) opts.ca = fs.readFileSync(args.ca);
    const ws = new WebSocket(url, opts);
    const box = inbox(ws);
    ws.on('open', () => {
      guarded(ws, box, args.scenario || 'full', args.close || '1000').then((r) => {
        console.log(r);
        process.exit(r === 'OK' ? 0 : 1);
      });
    });
    ws.on('error', (e) => { console.log('FAIL ' + e.message); process.exit(1); });
  } else {
    console.error('usage: node ws_peer.js server|client ...');
    process.exit(2);
  }
}

main();
