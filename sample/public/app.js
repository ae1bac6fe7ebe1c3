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

function toggleChatConnection() {
  const button = $('chat-drop');
  if (button.dataset.action === 'drop') {
    chat.source?.close();
    chat.source = undefined;
    setStatus($('chat-status'), 'offline');
    $('chat-offline-hint').hidden = false;
    button.dataset.action = 'resume';
    button.textContent = 'Reconnect & resume';
  } else {
    $('chat-offline-hint').hidden = true;
    button.dataset.action = 'drop';
    button.textContent = 'Drop connection';
    connectChat(chat.lastId);
  }
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

/* ------------------------------------------------------------------ LLM */

let llmAbort;

async function askLlm(event) {
  event?.preventDefault();
  llmAbort?.abort();
  const abort = new AbortController();
  llmAbort = abort;
  const output = $('llm-output');
  const text = $('llm-text');
  const status = $('llm-status');
  text.textContent = '';
  let chunks = 0;
  let chars = 0;
  let firstAt;
  const started = performance.now();
  $('llm-tokens').textContent = '0';
  $('llm-chars').textContent = '0';
  $('llm-ttft').textContent = '–';
  $('llm-rate').textContent = '–';
  $('llm-ask').disabled = true;
  $('llm-stop').disabled = false;
  output.dataset.state = 'streaming';
  setStatus(status, 'streaming');
  try {
    const res = await fetch('/api/llm', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: $('llm-prompt').value }),
      signal: abort.signal,
    });
    if (!res.ok || !res.body) throw new Error(`${res.status} ${res.statusText}`);
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      firstAt ??= performance.now();
      chunks++;
      chars += value.length;
      text.append(value);
      $('llm-tokens').textContent = fmt.format(chunks);
      $('llm-chars').textContent = fmt.format(chars);
      $('llm-ttft').textContent = `${Math.round(firstAt - started)} ms`;
      const seconds = (performance.now() - firstAt) / 1000;
      if (seconds > 0.2) $('llm-rate').textContent = (chunks / seconds).toFixed(1);
    }
    output.dataset.state = 'done';
    setStatus(status, 'done');
  } catch (err) {
    if (abort.signal.aborted) {
      output.dataset.state = 'stopped';
      setStatus(status, 'stopped');
    } else {
      output.dataset.state = 'error';
      setStatus(status, 'error');
      text.append(`\n[${err.message}]`);
    }
  } finally {
    if (llmAbort === abort) {
      $('llm-ask').disabled = false;
      $('llm-stop').disabled = true;
    }
  }
}

function startLlm() {
  $('llm-form').addEventListener('submit', askLlm);
  $('llm-stop').addEventListener('click', () => llmAbort?.abort());
  for (const button of document.querySelectorAll('.suggestion')) {
    button.addEventListener('click', () => {
      $('llm-prompt').value = button.dataset.prompt;
      void askLlm();
    });
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

void loadHealth();
startTicker();
startChat();
startLlm();
startExport();
startStats();
