// The nestjs-flush demo page. Every stream panel reads through FlushClient (nestjs-flush/client,
// the package's built ES module, served by the sample as /client/index.js): fetch-based SSE that
// resumes with Last-Event-ID, waits Retry-After, and shares one connection per URL between all
// the tabs of this browser. The NDJSON export reads fetch() + getReader() (FlushClient is SSE).
import { FlushClient } from '/client/index.js';

const $ = id => document.getElementById(id);
const fmt = new Intl.NumberFormat('en-US');
const fmt2 = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const time = ms => new Date(ms).toLocaleTimeString('en-GB', { hour12: false });

/** Unwraps the `{ code, message, data }` envelope of this app's JSON routes. */
async function getJson(url, init) {
  const res = await fetch(url, init);
  const body = await res.json();
  if (!res.ok) throw new Error(body?.message ?? `${res.status} ${res.statusText}`);
  return { body, data: body.data };
}

function setStatus(el, state, label = state) {
  el.dataset.state = state;
  el.textContent = label;
}

function shorten(text, max) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/* ------------------------------------------------------------------ server meta + envelope proof */

async function loadHealth() {
  try {
    const { body, data } = await getJson('/api/health');
    $('meta-adapter').textContent = data.adapter;
    const transports = { InMemoryFlushTransport: 'in-memory', RedisFlushTransport: 'redis' };
    $('meta-transport').textContent = transports[data.transport] ?? data.transport;
    $('meta-pid').textContent = data.pid;
    $('proof-json').textContent = JSON.stringify(body);
  } catch (err) {
    $('proof-json').textContent = `failed: ${err.message}`;
  }
}

/* ------------------------------------------------------------------ FlushClient */

// `?share=off`: this tab opens its own connections (`shareAcrossTabs: false`). By default the
// tabs of this browser share one connection per stream URL: Web Locks pick the tab that holds it
// (it "leads"), a BroadcastChannel hands its events to the others (they "follow"); when the
// leading tab closes, another one takes over and resumes from its last event id.
const share = new URLSearchParams(location.search).get('share') !== 'off';
/** The open clients of this tab, by panel: what the role badges and the header show. */
const clients = new Map();
/** The clients whose connection is shared with the other tabs. */
const sharedClients = new WeakSet();

/** Whether this tab holds the client's connection: 'leads', 'follows' or 'own' (not shared). */
function roleOf(client) {
  return { leader: 'leads', follower: 'follows', own: 'own' }[client.role];
}

const ROLE_LABELS = {
  leads: 'this tab leads the shared connection',
  follows: 'follows the shared connection of another tab',
  own: 'connection of its own',
};

function renderRoles() {
  let leads = 0;
  let shared = 0;
  for (const [name, client] of clients) {
    const role = roleOf(client);
    if (sharedClients.has(client)) shared++;
    if (role === 'leads') leads++;
    let badge = $(`${name}-role`);
    if (!badge) {
      badge = document.createElement('span');
      badge.className = 'role';
      badge.id = `${name}-role`;
      badge.dataset.testid = `${name}-role`;
      $(`${name}-status`).before(badge);
    }
    badge.dataset.role = role;
    badge.textContent = role;
    badge.title = ROLE_LABELS[role];
  }
  $('tab-role').textContent = share
    ? `leads ${leads} of ${shared} shared connections`
    : 'own connections (?share=off)';
  $('tab-role').dataset.leads = String(leads);
  $('tab-role').dataset.shared = String(shared);
}

/**
 * Opens a FlushClient on `url` for the panel `name`: its state drives the panel's status pill
 * (`onState` may take over a state by returning true), its role the badge. A URL with a resume
 * position (`?lastEventId=`) is a connection of its own: sharing it would make the tab a follower
 * of a connection that does not replay what this tab missed.
 */
function openStream(name, url, onState) {
  const shared = share && !url.includes('lastEventId=');
  const client = new FlushClient(url, { shareAcrossTabs: shared });
  // FlushClient shares where the browser has Web Locks (secure contexts) and BroadcastChannel.
  if (shared && navigator.locks && typeof BroadcastChannel === 'function')
    sharedClients.add(client);
  clients.set(name, client);
  client.on('state', (state, detail) => {
    if (clients.get(name) !== client) return;
    renderRoles();
    if (onState?.(state, detail)) return;
    const pill = $(`${name}-status`);
    if (state === 'open') setStatus(pill, 'live');
    else if (state === 'connecting') setStatus(pill, 'connecting');
    else if (state === 'retrying')
      setStatus(pill, 'reconnecting', `${detail?.status ?? detail?.reason ?? ''} · retrying`);
    // `close`: the page closed it itself (Drop connection) and shows why.
    else if (state === 'closed' && detail?.reason !== 'close')
      setStatus(pill, 'error', `closed · ${detail?.status ?? detail?.reason}`);
  });
  renderRoles();
  return client;
}

/** Closes the panel's client (another tab takes the connection over when it was shared). */
function closeStream(name) {
  clients.get(name)?.close();
  clients.delete(name);
  $(`${name}-role`)?.remove();
  renderRoles();
}

/* ------------------------------------------------------------------ ticker */

const ticker = {
  history: new Map(),
  tiles: new Map(),
  count: 0,
};

function quoteTile(symbol) {
  const tile = document.createElement('div');
  tile.className = 'quote';
  tile.dataset.testid = `ticker-quote-${symbol}`;
  tile.innerHTML = `
    <span class="quote-symbol"></span><span class="quote-pct"></span>
    <span class="quote-price" data-testid="ticker-price-${symbol}"></span><span class="quote-change"></span>
    <svg class="quote-spark" viewBox="0 0 100 30" preserveAspectRatio="none" aria-hidden="true">
      <defs><linearGradient id="spark-${symbol}" x1="0" y1="0" x2="0" y2="1">
        <stop offset="0" stop-color="currentColor" stop-opacity="0.35"/><stop offset="1" stop-color="currentColor" stop-opacity="0"/>
      </linearGradient></defs>
      <path class="spark-area" fill="url(#spark-${symbol})"></path>
      <polyline class="spark-line" fill="none" stroke="currentColor" stroke-width="1.6" vector-effect="non-scaling-stroke"></polyline>
    </svg>`;
  tile.querySelector('.quote-symbol').textContent = symbol;
  $('ticker-quotes').append(tile);
  return tile;
}

function sparkline(tile, values) {
  const min = Math.min(...values);
  const max = Math.max(...values);
  const span = max - min || 1;
  const step = values.length > 1 ? 100 / (values.length - 1) : 100;
  const points = values.map(
    (v, i) => `${(i * step).toFixed(2)},${(28 - ((v - min) / span) * 26).toFixed(2)}`,
  );
  tile.querySelector('.spark-line').setAttribute('points', points.join(' '));
  tile.querySelector('.spark-area').setAttribute('d', `M0,30 L${points.join(' L')} L100,30 Z`);
  const svg = tile.querySelector('.quote-spark');
  svg.classList.toggle('up', values[values.length - 1] >= values[0]);
  svg.classList.toggle('down', values[values.length - 1] < values[0]);
}

function onTick(tick, meta) {
  const id = meta.id ?? '';
  ticker.count++;
  $('ticker-count').textContent = fmt.format(ticker.count);
  $('ticker-last-id').textContent = id;
  // The frame as it came (FlushClient hands over the JSON-parsed data).
  $('proof-sse').textContent = `id: ${id}\ndata: ${shorten(JSON.stringify(tick), 150)}`;

  for (const q of tick.quotes) {
    const tile = ticker.tiles.get(q.symbol) ?? quoteTile(q.symbol);
    ticker.tiles.set(q.symbol, tile);
    const values = ticker.history.get(q.symbol) ?? [];
    values.push(q.price);
    if (values.length > 40) values.shift();
    ticker.history.set(q.symbol, values);

    const price = tile.querySelector('.quote-price');
    price.textContent = fmt2.format(q.price);
    price.classList.remove('flash-up', 'flash-down');
    if (q.change !== 0) {
      price.classList.add(q.change > 0 ? 'flash-up' : 'flash-down');
      setTimeout(() => price.classList.remove('flash-up', 'flash-down'), 350);
    }
    const change = tile.querySelector('.quote-change');
    change.textContent = `${q.change >= 0 ? '+' : ''}${fmt2.format(q.change)}`;
    change.className = `quote-change ${q.change >= 0 ? 'up' : 'down'}`;
    const pct = tile.querySelector('.quote-pct');
    pct.textContent = `${q.changePct >= 0 ? '▲' : '▼'} ${fmt2.format(Math.abs(q.changePct))}%`;
    pct.className = `quote-pct ${q.changePct >= 0 ? 'up' : 'down'}`;
    sparkline(tile, values);
  }

  const li = document.createElement('li');
  li.dataset.testid = 'ticker-event';
  li.dataset.eventId = id;
  li.innerHTML = '<span class="event-id"></span><span class="event-meta"></span>';
  li.querySelector('.event-id').textContent = id;
  li.querySelector('.event-meta').textContent = `#${tick.seq} · ${time(tick.at)}`;
  const feed = $('ticker-feed');
  feed.prepend(li);
  while (feed.children.length > 8) feed.lastElementChild.remove();
}

function startTicker() {
  // FlushClient reconnects by itself after a network error, sending Last-Event-ID: the hub
  // replays the ticks missed in between (the same after a hand-over between tabs).
  const client = openStream('ticker', '/api/ticker');
  client.on('message', onTick);
  client.on('resync', () => {
    ticker.history.clear();
  });
}

/* ------------------------------------------------------------------ chat */

const NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Radia', 'Ken', 'Margaret'];
const chat = {
  lastId: undefined,
  /** Server time of the current subscription: messages published before it were replayed. */
  subscribedAt: undefined,
  resumedFrom: null,
  replayed: 0,
  divider: undefined,
};

function colorOf(name) {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 360;
  return `hsl(${h} 75% 72%)`;
}

function renderChatMessage(id, message, replayed) {
  $('chat-empty')?.remove();
  const li = document.createElement('li');
  li.className = 'chat-message';
  li.dataset.testid = 'chat-message';
  li.dataset.id = id;
  li.dataset.replayed = String(replayed);
  if (replayed) li.classList.add('replayed');
  if (message.user === $('chat-user').value.trim()) li.classList.add('own');
  li.innerHTML = `
    <span class="avatar"></span>
    <div class="bubble">
      <div class="bubble-head"><span class="bubble-user"></span><span class="muted bubble-time"></span><span class="bubble-id"></span></div>
      <p class="bubble-text" data-testid="chat-message-text"></p>
    </div>`;
  const avatar = li.querySelector('.avatar');
  avatar.textContent = message.user.slice(0, 2).toUpperCase();
  avatar.style.background = colorOf(message.user);
  li.querySelector('.bubble-user').textContent = message.user;
  li.querySelector('.bubble-time').textContent = time(message.at);
  li.querySelector('.bubble-id').textContent = `id ${id}`;
  li.querySelector('.bubble-text').textContent = message.text;
  if (replayed) {
    const badge = document.createElement('span');
    badge.className = 'replayed-badge';
    badge.textContent = 'replayed';
    li.querySelector('.bubble-head').insertBefore(badge, li.querySelector('.bubble-id'));
  }
  const list = $('chat-list');
  list.append(li);
  list.scrollTop = list.scrollHeight;
}

function chatDivider(text) {
  const li = document.createElement('li');
  li.className = 'chat-divider';
  li.dataset.testid = 'chat-divider';
  li.textContent = text;
  $('chat-empty')?.remove();
  $('chat-list').append(li);
  return li;
}

function connectChat(resumeFrom) {
  const url = resumeFrom
    ? `/api/chat/stream?lastEventId=${encodeURIComponent(resumeFrom)}`
    : '/api/chat/stream';
  const client = openStream('chat', url);
  setStatus($('chat-status'), 'connecting');
  client.on('welcome', welcome => {
    chat.subscribedAt = welcome.now;
    chat.resumedFrom = welcome.resumedFrom;
    chat.replayed = 0;
    chat.divider = welcome.resumedFrom
      ? chatDivider(`resumed after ${welcome.resumedFrom}`)
      : undefined;
  });
  client.on('resync', () => {
    chatDivider('history too old: some messages were missed');
  });
  client.on('message', (message, meta) => {
    const replayed =
      chat.resumedFrom !== null &&
      chat.subscribedAt !== undefined &&
      message.at <= chat.subscribedAt;
    if (replayed) {
      chat.replayed++;
      if (chat.divider) {
        chat.divider.textContent = `resumed after ${chat.resumedFrom} · ${chat.replayed} missed ${chat.replayed === 1 ? 'message' : 'messages'} replayed`;
      }
    }
    chat.lastId = meta.id;
    $('chat-last-id').textContent = meta.id;
    renderChatMessage(meta.id, message, replayed);
  });
}

/**
 * A panel's Drop connection / Reconnect & resume button (`<name>-drop`), with its status pill and
 * offline hint: `drop()` closes the panel's client, `resume()` opens it again from its last id.
 */
function toggleConnection(name, drop, resume) {
  const button = $(`${name}-drop`);
  const dropping = button.dataset.action === 'drop';
  if (dropping) {
    drop();
    setStatus($(`${name}-status`), 'offline');
  }
  $(`${name}-offline-hint`).hidden = !dropping;
  button.dataset.action = dropping ? 'resume' : 'drop';
  button.textContent = dropping ? 'Reconnect & resume' : 'Drop connection';
  if (!dropping) resume();
}

function toggleChatConnection() {
  toggleConnection(
    'chat',
    () => closeStream('chat'),
    () => connectChat(chat.lastId),
  );
}

async function sendChat(event) {
  event.preventDefault();
  const user = $('chat-user').value.trim();
  const text = $('chat-text').value.trim();
  if (!user || !text) return;
  const send = $('chat-send');
  send.disabled = true;
  try {
    const { body } = await getJson('/api/chat', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ user, text }),
    });
    $('chat-post-response').textContent = JSON.stringify(body);
    $('chat-text').value = '';
  } catch (err) {
    $('chat-post-response').textContent = `failed: ${err.message}`;
  } finally {
    send.disabled = false;
    $('chat-text').focus();
  }
}

function startChat() {
  $('chat-user').value = NAMES[Math.floor(Math.random() * NAMES.length)];
  $('chat-form').addEventListener('submit', sendChat);
  $('chat-drop').addEventListener('click', toggleChatConnection);
  connectChat(undefined);
}

/* ------------------------------------------------------------------ order board */

// One stream reads two channels. Its first event is `snapshot` (the whole board), then every
// change; each event's id is the composite cursor `c1.<hash>.<alerts>.<orders>` (channels in sorted
// order), which the browser sends back as Last-Event-ID to resume both channels at once.
const BOARD_CHANNELS = ['alerts', 'orders'];
/** Which channel each event name is published on (the frame itself does not say). */
const BOARD_EVENT_CHANNEL = {
  'order-created': 'orders',
  'order-updated': 'orders',
  alert: 'alerts',
};
const KEPT_ORDERS = 8;
const KEPT_ALERTS = 5;
const KEPT_LOG = 40;
const BROWSER_COOKIE = 'flush_demo_browser';

const board = {
  /** The last cursor received: what a resume sends. */
  cursor: undefined,
  orders: new Map(),
  alerts: [],
  /** Per channel: the revision in the last snapshot, and the last one applied. */
  snapshotRev: { orders: 0, alerts: 0 },
  /** Whether the board has a snapshot; live events before it wait in `pending`. */
  loaded: false,
  loading: false,
  pending: [],
  rev: { orders: 0, alerts: 0 },
  gaps: 0,
  duplicates: 0,
  count: 0,
  /** The countdown shown while FlushClient waits out a 429. */
  countdown: undefined,
};

/** The browser's id (a cookie shared by its tabs): the server's stream key for the board. */
function browserId() {
  const prefix = `${BROWSER_COOKIE}=`;
  const found = document.cookie.split('; ').find(c => c.startsWith(prefix));
  if (found) return found.slice(prefix.length);
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const id = Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('');
  document.cookie = `${prefix}${id}; path=/; max-age=31536000; SameSite=Lax`;
  return id;
}

/**
 * The channel's own event id in a cursor (`<ms36>` or `<ms36>-<seq36>` → `<ms>-<seq>`), per the
 * documented `c1` format; undefined where the cursor has no position (`_`).
 */
function cursorPositions(cursor) {
  const parts = (cursor ?? '').split('.');
  if (parts[0] !== 'c1' || parts.length !== 2 + BOARD_CHANNELS.length) return {};
  const out = {};
  BOARD_CHANNELS.forEach((channel, i) => {
    const compact = parts[2 + i];
    if (compact === '_') return;
    const [ms, seq = '0'] = compact.split('-');
    out[channel] = `${parseInt(ms, 36)}-${parseInt(seq, 36)}`;
  });
  return out;
}

function boardLog(kind, channel, event, rev, cursor) {
  const li = document.createElement('li');
  li.dataset.testid = 'board-event';
  li.dataset.kind = kind;
  li.dataset.channel = channel;
  li.dataset.event = event;
  if (rev !== undefined) li.dataset.rev = String(rev);
  if (cursor) li.dataset.cursor = cursor;
  const channelId = BOARD_CHANNELS.includes(channel) ? cursorPositions(cursor)[channel] : undefined;
  if (channelId) li.dataset.channelId = channelId;
  li.innerHTML =
    '<span><span class="event-channel"></span> <span class="event-name"></span></span><span class="event-meta"></span>';
  li.querySelector('.event-channel').textContent = channel;
  li.querySelector('.event-name').textContent = rev === undefined ? event : `${event} #${rev}`;
  const meta = li.querySelector('.event-meta');
  meta.textContent = channelId ?? cursor ?? '';
  meta.title = cursor ? `id: ${cursor}` : '';
  const list = $('board-events');
  list.prepend(li);
  while (list.children.length > KEPT_LOG) list.lastElementChild.remove();
  return li;
}

function renderBoardCheck() {
  $('board-gaps').textContent = fmt.format(board.gaps);
  $('board-duplicates').textContent = fmt.format(board.duplicates);
  $('board-check').dataset.ok = String(board.gaps === 0 && board.duplicates === 0);
}

function renderOrders(changedId) {
  const body = $('board-orders');
  const rows = [...board.orders.values()].sort((a, b) => b.order.id - a.order.id);
  body.replaceChildren(
    ...rows.map(({ order, rev }) => {
      const tr = document.createElement('tr');
      tr.dataset.testid = 'board-order';
      tr.dataset.orderId = String(order.id);
      tr.dataset.status = order.status;
      if (order.id === changedId) tr.className = 'changed';
      for (const [value, cls] of [
        [`#${order.id}`, 'num'],
        [order.customer, ''],
        [order.item, ''],
        [order.status, 'status'],
        [rev === undefined ? 'snapshot' : `#${rev}`, 'num'],
      ]) {
        const td = document.createElement('td');
        if (cls === 'status') {
          const pill = document.createElement('span');
          pill.className = 'order-status';
          pill.dataset.status = value;
          pill.textContent = value;
          td.append(pill);
        } else {
          td.textContent = value;
          if (cls) td.className = cls;
        }
        tr.append(td);
      }
      return tr;
    }),
  );
}

function renderAlerts() {
  $('board-alerts').replaceChildren(
    ...board.alerts
      .slice()
      .reverse()
      .map(alert => {
        const li = document.createElement('li');
        li.dataset.testid = 'board-alert-item';
        li.dataset.level = alert.level;
        li.textContent = `${time(alert.at)} · ${alert.text}`;
        return li;
      }),
  );
}

function onBoardSnapshot(snapshot, meta, source = 'snapshot') {
  const cursor = meta.id;
  board.loaded = true;
  board.orders = new Map(snapshot.orders.map(order => [order.id, { order, rev: undefined }]));
  board.alerts = snapshot.alerts;
  board.snapshotRev = { ...snapshot.rev };
  board.rev = { ...snapshot.rev };
  onBoardEvent(cursor);
  const row = boardLog(
    'snapshot',
    'snapshot',
    `${snapshot.orders.length} orders · orders #${snapshot.rev.orders} · alerts #${snapshot.rev.alerts}${source === 'snapshot' ? '' : ` · ${source}`}`,
    undefined,
    cursor,
  );
  row.dataset.source = source;
  row.dataset.revOrders = String(snapshot.rev.orders);
  row.dataset.revAlerts = String(snapshot.rev.alerts);
  renderOrders();
  renderAlerts();
}

/**
 * Applies a live event once: each channel's `rev` goes 1, 2, 3… A rev already covered by the
 * snapshot is skipped (an event published while the snapshot loaded may be in both); one already
 * applied after it would be a duplicate; a jump would be a gap. Both counters stay at 0.
 */
function onBoardChange(data, meta) {
  if (!board.loaded) {
    board.pending.push([data, meta]);
    return;
  }
  const channel = BOARD_EVENT_CHANNEL[meta.event];
  onBoardEvent(meta.id);
  if (data.rev <= board.snapshotRev[channel]) return;
  if (data.rev <= board.rev[channel]) {
    board.duplicates++;
    renderBoardCheck();
    return;
  }
  if (data.rev > board.rev[channel] + 1) board.gaps += data.rev - board.rev[channel] - 1;
  board.rev[channel] = data.rev;
  boardLog('live', channel, meta.event, data.rev, meta.id);
  renderBoardCheck();
  if (channel === 'alerts') {
    board.alerts.push(data.alert);
    if (board.alerts.length > KEPT_ALERTS) board.alerts.shift();
    renderAlerts();
    return;
  }
  board.orders.set(data.order.id, { order: data.order, rev: data.rev });
  // The server lets the oldest delivered orders go the same way.
  for (const [id, row] of board.orders) {
    if (board.orders.size <= KEPT_ORDERS) break;
    if (row.order.status === 'delivered') board.orders.delete(id);
  }
  renderOrders(data.order.id);
}

/** Counts an event and keeps its cursor: the Last-Event-ID of a resume. */
function onBoardEvent(cursor) {
  board.count++;
  $('board-count').textContent = fmt.format(board.count);
  if (!cursor) return;
  board.cursor = cursor;
  $('board-cursor').textContent = cursor;
}

function connectBoard() {
  const resumeFrom = board.cursor;
  const url = resumeFrom
    ? `/api/board?lastEventId=${encodeURIComponent(resumeFrom)}`
    : '/api/board';
  let resumed = false;
  const client = openStream('board', url, (state, detail) => {
    if (state === 'retrying' && detail?.status === 429) {
      showBoardCap(detail);
      return true;
    }
    clearBoardCountdown();
    $('board-cap').hidden = true;
    if (state === 'open' && !board.loaded && roleOf(client) === 'follows') void loadBoardState();
    if (state === 'open' && resumeFrom && !resumed) {
      resumed = true;
      boardLog('resume', 'resumed', 'from the cursor', undefined, resumeFrom);
    }
    return false;
  });
  setStatus($('board-status'), 'connecting');
  client.on('snapshot', onBoardSnapshot);
  for (const name of Object.keys(BOARD_EVENT_CHANNEL)) client.on(name, onBoardChange);
  client.on('resync', (_info, meta) => {
    onBoardEvent(meta.id);
    boardLog('resync', 'resync', 'history too short', undefined, meta.id);
  });
}

/**
 * A tab that follows the board connection of another tab joins it live: the server's `snapshot`
 * went to that tab's connection before this tab was listening. So it loads the board from
 * `GET /api/board/state` (the same data, with each channel's rev), and applies the live events
 * that came meanwhile after it (those the state already holds are skipped by their rev).
 */
async function loadBoardState() {
  if (board.loaded || board.loading) return;
  board.loading = true;
  try {
    const { data } = await getJson('/api/board/state');
    if (!board.loaded) onBoardSnapshot(data, {}, 'GET /api/board/state: this tab follows');
  } catch (err) {
    boardLog('error', 'error', `board state: ${err.message}`);
  } finally {
    board.loading = false;
  }
  for (const [data, meta] of board.pending.splice(0)) onBoardChange(data, meta);
}

/**
 * The server refused the stream with 429 before any byte (this browser holds all its board
 * streams): FlushClient waits what Retry-After says (plus jitter) and tries again by itself; the
 * page explains it and counts down.
 */
function showBoardCap(detail) {
  clearBoardCountdown();
  const until = Date.now() + (detail.delayMs ?? 5000);
  $('board-cap-status').textContent = String(detail.status);
  $('board-cap-retry-after').textContent = String(Math.floor((detail.delayMs ?? 5000) / 1000));
  $('board-cap').hidden = false;
  setStatus($('board-status'), 'capped', '429 · waiting');
  const tick = () => {
    $('board-cap-seconds').textContent = String(
      Math.max(0, Math.ceil((until - Date.now()) / 1000)),
    );
  };
  tick();
  board.countdown = setInterval(tick, 250);
}

function clearBoardCountdown() {
  clearInterval(board.countdown);
  board.countdown = undefined;
}

function toggleBoardConnection() {
  toggleConnection(
    'board',
    () => {
      clearBoardCountdown();
      closeStream('board');
      $('board-cap').hidden = true;
    },
    connectBoard,
  );
}

async function boardPost(path, body) {
  try {
    await getJson(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
  } catch (err) {
    boardLog('error', 'error', err.message);
  }
}

function startBoard() {
  $('board-key').textContent = `browser:${browserId()}`;
  $('board-new-order').addEventListener('click', () => void boardPost('/api/board/orders'));
  $('board-advance').addEventListener('click', () => void boardPost('/api/board/orders/advance'));
  $('board-alert').addEventListener(
    'click',
    () =>
      void boardPost('/api/board/alerts', { text: `Raised from this page at ${time(Date.now())}` }),
  );
  $('board-drop').addEventListener('click', toggleBoardConnection);
  connectBoard();
}

/* ------------------------------------------------------------------ LLM */

// The answer is a run on the server (hub.run): POST /api/llm/runs/:key starts it under a key made
// here, and the page follows it with a FlushClient on GET /api/llm/runs/:key (hub.attach). The
// key and the prompt stay in sessionStorage while the answer runs: a reload re-attaches and renders
// the whole run from scratch; a dropped connection resumes after the last token's id.

const LLM_STORAGE_KEY = 'flush-demo-llm-run';
/** How long "Drop connection" stays offline before it resumes: tokens pile up on the server. */
const LLM_OFFLINE_MS = 1000;

const llm = {
  key: undefined,
  source: undefined,
  lastId: undefined,
  ended: true,
  chunks: 0,
  chars: 0,
  started: 0,
  firstAt: undefined,
  resumes: 0,
  dropTimer: undefined,
  leaving: false,
};
for (const leaving of ['beforeunload', 'pagehide']) {
  addEventListener(leaving, () => {
    llm.leaving = true;
  });
}
addEventListener('pageshow', () => {
  llm.leaving = false;
});

/** A run key: a UUID (crypto.randomUUID needs a secure context, getRandomValues does not). */
function newRunKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), b =>
    b.toString(16).padStart(2, '0'),
  ).join('');
}

const runUrl = (key, suffix = '') => `/api/llm/runs/${encodeURIComponent(key)}${suffix}`;

function llmButtons() {
  const running = !llm.ended;
  $('llm-ask').disabled = running;
  $('llm-stop').disabled = !running;
  $('llm-drop').disabled = !running || !llm.source;
}

/** Starts rendering the run `key` from its first token. */
function llmBegin(key) {
  llmDetach();
  Object.assign(llm, {
    key,
    lastId: undefined,
    ended: false,
    chunks: 0,
    chars: 0,
    started: performance.now(),
    firstAt: undefined,
    resumes: 0,
  });
  $('llm-text').textContent = '';
  $('llm-tokens').textContent = '0';
  $('llm-chars').textContent = '0';
  $('llm-ttft').textContent = '–';
  $('llm-rate').textContent = '–';
  $('llm-key').textContent = key.slice(0, 8);
  $('llm-last-id').textContent = '–';
  $('llm-resumes').textContent = '0';
  $('llm-output').dataset.state = 'streaming';
  setStatus($('llm-status'), 'streaming');
  llmButtons();
}

function llmDetach() {
  clearTimeout(llm.dropTimer);
  llm.dropTimer = undefined;
  if (llm.source) closeStream('llm');
  llm.source = undefined;
}

function llmToken(token, id) {
  llm.lastId = id;
  llm.firstAt ??= performance.now();
  llm.chunks++;
  llm.chars += token.length;
  $('llm-text').append(token);
  $('llm-tokens').textContent = fmt.format(llm.chunks);
  $('llm-chars').textContent = fmt.format(llm.chars);
  $('llm-last-id').textContent = id;
  $('llm-ttft').textContent = `${Math.round(llm.firstAt - llm.started)} ms`;
  const seconds = (performance.now() - llm.firstAt) / 1000;
  if (seconds > 0.2) $('llm-rate').textContent = (llm.chunks / seconds).toFixed(1);
}

const LLM_END_STATES = {
  completed: ['done', 'done'],
  cancelled: ['stopped', 'stopped'],
  expired: ['stopped', 'expired'],
  failed: ['error', 'failed'],
};

/** The run ended (its `end` event), or cannot be followed: the page lets go of it. */
function llmFinish(state, label = state, note) {
  llmDetach();
  llm.ended = true;
  sessionStorage.removeItem(LLM_STORAGE_KEY);
  $('llm-output').dataset.state = state;
  setStatus($('llm-status'), state, label);
  if (note) $('llm-text').append(`\n[${note}]`);
  llmButtons();
}

/** Follows the run: from its first event, or after `llm.lastId` (a resume). */
function llmAttach() {
  const key = llm.key;
  const resume = llm.lastId ? `?lastEventId=${encodeURIComponent(llm.lastId)}` : '';
  let client;
  const current = () => llm.source === client;
  client = openStream('llm', runUrl(key, resume), (state, detail) => {
    // Leaving the page aborts the connection: the run stays the page's to resume.
    if (!current() || llm.leaving) return true;
    if (state === 'open') setStatus($('llm-status'), 'streaming');
    // 404: an unknown or expired run. FlushClient would try again (with backoff): stop here.
    else if (state === 'retrying' && detail?.status === 404)
      llmFinish('error', 'error', 'This answer is gone (unknown or expired run).');
    else if (state === 'retrying') setStatus($('llm-status'), 'reconnecting');
    // 204: the server says this client already has the end (it stops FlushClient for good).
    else if (state === 'closed' && detail?.status === 204) llmFinish('done', 'done');
    else if (state === 'closed' && detail?.reason !== 'close')
      llmFinish('error', 'error', `The stream closed (${detail?.status ?? detail?.reason}).`);
    return true;
  });
  llm.source = client;
  // Every token is a message event whose id is its place in the run. FlushClient's own
  // reconnects send it as Last-Event-ID: the server answers with the tokens after it.
  // (FlushClient JSON-parses data that parses: a token such as "42" arrives as a number.)
  client.on('message', (token, meta) => {
    if (current()) llmToken(typeof token === 'string' ? token : JSON.stringify(token), meta.id);
  });
  // The run's last event. The page closes the client: left open, FlushClient would reconnect
  // after the end of the stream, and the server would answer 204.
  client.on('end', ({ status, message }) => {
    if (!current()) return;
    const [state, label] = LLM_END_STATES[status] ?? ['error', status];
    llmFinish(state, label, status === 'failed' ? message : undefined);
  });
  llmButtons();
}

async function askLlm(event) {
  event?.preventDefault();
  const previous = llm.ended ? undefined : llm.key;
  if (previous) void fetch(runUrl(previous, '/cancel'), { method: 'POST' });
  const key = newRunKey();
  const prompt = $('llm-prompt').value;
  llmBegin(key);
  sessionStorage.setItem(LLM_STORAGE_KEY, JSON.stringify({ key, prompt }));
  const abort = new AbortController();
  try {
    const res = await fetch(runUrl(key), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt }),
      signal: abort.signal,
    });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(`${res.status} ${body.message ?? res.statusText}`);
    }
  } catch (err) {
    if (llm.key === key) llmFinish('error', 'error', err.message);
    return;
  } finally {
    // The run is the server's now: this response lets go of it (its producer runs on), and the
    // page follows the run through GET, which resumes.
    abort.abort();
  }
  if (llm.key === key && !llm.ended) llmAttach();
}

/** Closes the connection mid-answer, stays offline a moment, then resumes after the last id. */
function dropLlm() {
  if (llm.ended || !llm.source) return;
  llmDetach();
  llm.resumes++;
  $('llm-resumes').textContent = String(llm.resumes);
  setStatus($('llm-status'), 'offline', 'offline, resuming…');
  llmButtons();
  llm.dropTimer = setTimeout(() => {
    llm.dropTimer = undefined;
    if (!llm.ended) llmAttach();
  }, LLM_OFFLINE_MS);
}

async function stopLlm() {
  if (llm.ended) return;
  $('llm-stop').disabled = true;
  // The run's `end` ("cancelled") comes through the stream; when offline, resume now.
  await fetch(runUrl(llm.key, '/cancel'), { method: 'POST' }).catch(() => undefined);
  if (!llm.ended && !llm.source) {
    clearTimeout(llm.dropTimer);
    llmAttach();
  }
}

function startLlm() {
  $('llm-form').addEventListener('submit', askLlm);
  $('llm-stop').addEventListener('click', () => void stopLlm());
  $('llm-drop').addEventListener('click', dropLlm);
  for (const button of document.querySelectorAll('.suggestion')) {
    button.addEventListener('click', () => {
      $('llm-prompt').value = button.dataset.prompt;
      void askLlm();
    });
  }
  // A reload mid-answer: the run went on without the page; render it whole, then follow it.
  let saved;
  try {
    saved = JSON.parse(sessionStorage.getItem(LLM_STORAGE_KEY) ?? 'null');
  } catch {
    saved = null;
  }
  if (saved && typeof saved.key === 'string') {
    if (typeof saved.prompt === 'string') $('llm-prompt').value = saved.prompt;
    llmBegin(saved.key);
    llmAttach();
  }
}

/* ------------------------------------------------------------------ export */

function renderPreview(rows) {
  const body = $('export-preview');
  body.replaceChildren(
    ...rows.map(row => {
      const tr = document.createElement('tr');
      const cells = [row.id, row.customer, '', row.country, fmt2.format(row.amount)];
      cells.forEach((value, i) => {
        const td = document.createElement('td');
        if (i === 2) {
          const plan = document.createElement('span');
          plan.className = `plan plan-${row.plan}`;
          plan.textContent = row.plan;
          td.append(plan);
        } else {
          td.textContent = String(value);
        }
        if (i === 4 || i === 0) td.className = 'num';
        tr.append(td);
      });
      return tr;
    }),
  );
}

async function runExport() {
  const rowsWanted = Number($('export-rows').value);
  const button = $('export-start');
  const status = $('export-status');
  const bar = $('export-progress');
  const fill = $('export-progress-fill');
  button.disabled = true;
  setStatus(status, 'streaming');
  let count = 0;
  let bytes = 0;
  let progress = 0;
  const last = [];
  const started = performance.now();
  let frame = 0;
  const paint = () => {
    frame = 0;
    const pct = Math.floor(progress * 100);
    fill.style.width = `${progress * 100}%`;
    bar.setAttribute('aria-valuenow', String(pct));
    $('export-percent').textContent = `${pct}%`;
    $('export-count').textContent = fmt.format(count);
    $('export-bytes').textContent = `${fmt.format(Math.round(bytes / 1024))} KB`;
    $('export-elapsed').textContent = `${((performance.now() - started) / 1000).toFixed(2)} s`;
    renderPreview(last.slice().reverse());
  };
  try {
    const res = await fetch(`/api/export?rows=${rowsWanted}`);
    if (!res.ok || !res.body) throw new Error(`${res.status} ${res.statusText}`);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      buffer += decoder.decode(value, { stream: true });
      const lines = buffer.split('\n');
      buffer = lines.pop();
      for (const line of lines) {
        if (!line.trim()) continue; // heartbeat
        const row = JSON.parse(line);
        count++;
        progress = row.progress;
        last.push(row);
        if (last.length > 5) last.shift();
      }
      frame ||= requestAnimationFrame(paint);
    }
    if (frame) cancelAnimationFrame(frame);
    paint();
    setStatus(
      status,
      count === rowsWanted ? 'done' : 'error',
      count === rowsWanted ? 'done' : 'incomplete',
    );
  } catch (err) {
    setStatus(status, 'error');
    $('export-elapsed').textContent = err.message;
  } finally {
    button.disabled = false;
  }
}

function startExport() {
  $('export-start').addEventListener('click', () => void runExport());
}

/* ------------------------------------------------------------------ stats */

function renderChannels(channels) {
  const list = $('stats-channels');
  list.replaceChildren(
    ...Object.entries(channels).map(([name, n]) => {
      const chip = document.createElement('span');
      chip.className = 'channel';
      chip.dataset.channel = name;
      chip.innerHTML = '<span></span> · <b></b>';
      chip.querySelector('span').textContent = name;
      chip.querySelector('b').textContent = String(n);
      return chip;
    }),
  );
  if (list.children.length === 0) list.innerHTML = '<span class="muted">none</span>';
}

function renderStats(data) {
  $('stats-open-streams').textContent = fmt.format(data.openStreams);
  $('stats-eps').textContent = data.eventsPerSecond.toFixed(1);
  $('stats-published').textContent = fmt.format(data.published);
  $('stats-delivered').textContent = fmt.format(data.delivered);
  $('stats-streams-opened').textContent = fmt.format(data.streamsOpened);
  $('stats-replays').textContent = fmt.format(data.replays);
  $('stats-bytes').textContent = fmt.format(data.bytesWritten);
  $('stats-heartbeats').textContent = fmt.format(data.heartbeats);
  renderChannels(data.channels);
}

function startStats() {
  // The figures once a second as Server-Sent Events: one stream for every tab of this browser.
  const client = openStream('stats', '/api/stats/stream');
  client.on('stats', renderStats);
}

/* ------------------------------------------------------------------ boot */

// `/?only=board`: the board alone. Browsers open at most 6 HTTP/1.1 connections per server, for
// all their tabs together: shared by FlushClient, the streams of any number of tabs hold 4 (ticker,
// chat, board, figures); with `?share=off` each tab holds its own.
const onlyBoard = new URLSearchParams(location.search).get('only') === 'board';
document.body.classList.toggle('only-board', onlyBoard);
void loadHealth();
startBoard();
if (!onlyBoard) {
  startTicker();
  startChat();
  startLlm();
  startExport();
  startStats();
}
