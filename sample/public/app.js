// The nestjs-flush demo page: plain browser APIs only (EventSource, fetch + getReader()).
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

function onTick(event) {
  const tick = JSON.parse(event.data);
  ticker.count++;
  $('ticker-count').textContent = fmt.format(ticker.count);
  $('ticker-last-id').textContent = event.lastEventId;
  $('proof-sse').textContent = `id: ${event.lastEventId}\ndata: ${shorten(event.data, 150)}`;

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
  li.dataset.eventId = event.lastEventId;
  li.innerHTML = '<span class="event-id"></span><span class="event-meta"></span>';
  li.querySelector('.event-id').textContent = event.lastEventId;
  li.querySelector('.event-meta').textContent = `#${tick.seq} · ${time(tick.at)}`;
  const feed = $('ticker-feed');
  feed.prepend(li);
  while (feed.children.length > 8) feed.lastElementChild.remove();
}

function startTicker() {
  // The browser reconnects by itself after a network error, sending Last-Event-ID: the hub
  // replays the ticks missed in between.
  const source = new EventSource('/api/ticker');
  source.onopen = () => setStatus($('ticker-status'), 'live');
  source.onerror = () => setStatus($('ticker-status'), 'reconnecting');
  source.onmessage = onTick;
  source.addEventListener('resync', () => {
    ticker.history.clear();
  });
}

/* ------------------------------------------------------------------ chat */

const NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Radia', 'Ken', 'Margaret'];
const chat = {
  source: undefined,
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
  const source = new EventSource(url);
  chat.source = source;
  setStatus($('chat-status'), 'connecting');
  source.onopen = () => setStatus($('chat-status'), 'live');
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) setStatus($('chat-status'), 'error', 'closed');
    else setStatus($('chat-status'), 'reconnecting');
  };
  source.addEventListener('welcome', event => {
    const welcome = JSON.parse(event.data);
    chat.subscribedAt = welcome.now;
    chat.resumedFrom = welcome.resumedFrom;
    chat.replayed = 0;
    chat.divider = welcome.resumedFrom
      ? chatDivider(`resumed after ${welcome.resumedFrom}`)
      : undefined;
  });
  source.addEventListener('resync', () => {
    chatDivider('history too old: some messages were missed');
  });
  source.onmessage = event => {
    const message = JSON.parse(event.data);
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
    chat.lastId = event.lastEventId;
    $('chat-last-id').textContent = event.lastEventId;
    renderChatMessage(event.lastEventId, message, replayed);
  };
}

/**
 * A panel's Drop connection / Reconnect & resume button (`<name>-drop`), with its status pill and
 * offline hint: `drop()` closes the panel's EventSource, `resume()` opens it again from its last id.
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
    () => {
      chat.source?.close();
      chat.source = undefined;
    },
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

// One EventSource reads two channels. Its first event is `snapshot` (the whole board), then every
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
  source: undefined,
  /** The last cursor received: what a resume sends. */
  cursor: undefined,
  orders: new Map(),
  alerts: [],
  /** Per channel: the revision in the last snapshot, and the last one applied. */
  snapshotRev: { orders: 0, alerts: 0 },
  rev: { orders: 0, alerts: 0 },
  gaps: 0,
  duplicates: 0,
  count: 0,
  retryTimer: undefined,
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

function onBoardSnapshot(event) {
  const snapshot = JSON.parse(event.data);
  board.orders = new Map(snapshot.orders.map(order => [order.id, { order, rev: undefined }]));
  board.alerts = snapshot.alerts;
  board.snapshotRev = { ...snapshot.rev };
  board.rev = { ...snapshot.rev };
  onBoardEvent(event.lastEventId);
  const row = boardLog(
    'snapshot',
    'snapshot',
    `${snapshot.orders.length} orders · orders #${snapshot.rev.orders} · alerts #${snapshot.rev.alerts}`,
    undefined,
    event.lastEventId,
  );
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
function onBoardChange(event) {
  const channel = BOARD_EVENT_CHANNEL[event.type];
  const data = JSON.parse(event.data);
  onBoardEvent(event.lastEventId);
  if (data.rev <= board.snapshotRev[channel]) return;
  if (data.rev <= board.rev[channel]) {
    board.duplicates++;
    renderBoardCheck();
    return;
  }
  if (data.rev > board.rev[channel] + 1) board.gaps += data.rev - board.rev[channel] - 1;
  board.rev[channel] = data.rev;
  boardLog('live', channel, event.type, data.rev, event.lastEventId);
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
  clearBoardRetry();
  const resumeFrom = board.cursor;
  const url = resumeFrom
    ? `/api/board?lastEventId=${encodeURIComponent(resumeFrom)}`
    : '/api/board';
  const source = new EventSource(url);
  board.source = source;
  setStatus($('board-status'), 'connecting');
  source.onopen = () => {
    $('board-cap').hidden = true;
    setStatus($('board-status'), 'live');
    if (resumeFrom) boardLog('resume', 'resumed', 'from the cursor', undefined, resumeFrom);
  };
  source.onerror = () => {
    if (board.source !== source) return;
    // Still CONNECTING: a network error, the browser retries by itself with Last-Event-ID.
    if (source.readyState !== EventSource.CLOSED) {
      setStatus($('board-status'), 'reconnecting');
      return;
    }
    // CLOSED: the server refused the stream (a status other than 200). EventSource does not say
    // which: ask again with fetch() and read it.
    source.close();
    board.source = undefined;
    void probeBoard(url);
  };
  source.addEventListener('snapshot', onBoardSnapshot);
  for (const name of Object.keys(BOARD_EVENT_CHANNEL)) source.addEventListener(name, onBoardChange);
  source.addEventListener('resync', event => {
    onBoardEvent(event.lastEventId);
    boardLog('resync', 'resync', 'history too short', undefined, event.lastEventId);
  });
}

/** Why the board stream was refused: status, Retry-After and the JSON message, then retry. */
async function probeBoard(url) {
  const abort = new AbortController();
  let res;
  try {
    res = await fetch(url, { headers: { Accept: 'text/event-stream' }, signal: abort.signal });
  } catch {
    retryBoard(5, 'error', 'unreachable');
    return;
  }
  if (res.ok) {
    // A slot came free meanwhile: this fetch is a stream now. Let it go, reconnect at once.
    abort.abort();
    connectBoard();
    return;
  }
  const retryAfter = Math.max(1, Number(res.headers.get('Retry-After')) || 5);
  const text = await res.text().catch(() => '');
  abort.abort();
  if (res.status === 429) {
    let limit = '';
    try {
      limit = /at most (\d+)/.exec(JSON.parse(text).message)?.[1] ?? '';
    } catch {
      // Not the JSON body the library answers: show it as it is.
    }
    $('board-cap-limit').textContent = limit || 'too many';
    $('board-cap-retry-after').textContent = String(retryAfter);
    $('board-cap-body').textContent = text;
    $('board-cap').dataset.retryAfter = String(retryAfter);
    $('board-cap').hidden = false;
    retryBoard(retryAfter, 'capped', '429 · waiting');
  } else {
    retryBoard(retryAfter, 'error', `${res.status} · retrying`);
  }
}

/** Counts down on the page, then connects again (resuming from the cursor, if any). */
function retryBoard(seconds, state, label) {
  clearBoardRetry();
  setStatus($('board-status'), state, label);
  let left = seconds;
  $('board-cap-seconds').textContent = String(left);
  board.retryTimer = setInterval(() => {
    left--;
    $('board-cap-seconds').textContent = String(Math.max(0, left));
    if (left <= 0) connectBoard();
  }, 1000);
}

function clearBoardRetry() {
  clearInterval(board.retryTimer);
  board.retryTimer = undefined;
}

function toggleBoardConnection() {
  toggleConnection(
    'board',
    () => {
      clearBoardRetry();
      board.source?.close();
      board.source = undefined;
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
// here, and the page follows it with an EventSource on GET /api/llm/runs/:key (hub.attach). The
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
  llm.source?.close();
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
  const source = new EventSource(runUrl(key, resume));
  llm.source = source;
  const current = () => llm.source === source;
  source.onopen = () => {
    if (current()) setStatus($('llm-status'), 'streaming');
  };
  // Every token is a message event whose id is its place in the run. EventSource's own
  // reconnects send it as Last-Event-ID: the server answers with the tokens after it.
  source.onmessage = event => {
    if (current()) llmToken(event.data, event.lastEventId);
  };
  source.addEventListener('end', event => {
    if (!current()) return;
    const { status, message } = JSON.parse(event.data);
    const [state, label] = LLM_END_STATES[status] ?? ['error', status];
    llmFinish(state, label, status === 'failed' ? message : undefined);
  });
  source.onerror = () => {
    // Leaving the page closes the EventSource with an error: the run stays the page's to resume.
    if (!current() || llm.leaving) return;
    // CLOSED: an answer that is not an event stream (404: unknown or expired run).
    if (source.readyState === EventSource.CLOSED)
      llmFinish('error', 'error', 'This answer is gone (unknown or expired run).');
    else setStatus($('llm-status'), 'reconnecting');
  };
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

/** Closes the EventSource mid-answer, stays offline a moment, then resumes after the last id. */
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
  // The run's `end` ("cancelled") comes through the EventSource; when offline, resume now.
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

async function pollStats() {
  try {
    const { data } = await getJson('/api/stats');
    $('stats-open-streams').textContent = fmt.format(data.openStreams);
    $('stats-eps').textContent = data.eventsPerSecond.toFixed(1);
    $('stats-published').textContent = fmt.format(data.published);
    $('stats-delivered').textContent = fmt.format(data.delivered);
    $('stats-streams-opened').textContent = fmt.format(data.streamsOpened);
    $('stats-replays').textContent = fmt.format(data.replays);
    $('stats-bytes').textContent = fmt.format(data.bytesWritten);
    $('stats-heartbeats').textContent = fmt.format(data.heartbeats);
    renderChannels(data.channels);
    setStatus($('stats-status'), 'live');
  } catch {
    setStatus($('stats-status'), 'error', 'unreachable');
  }
}

function startStats() {
  void pollStats();
  setInterval(() => void pollStats(), 1000);
}

/* ------------------------------------------------------------------ boot */

// `/?only=board`: the board alone, one connection. Browsers open at most 6 HTTP/1.1 connections
// per server, shared by all tabs; a full tab holds 3 (ticker, chat, board), a board tab 1.
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
