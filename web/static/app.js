// The dashboard's small amount of behaviour: writes through the JSON API with the CSRF header,
// the live today list over SSE, and waiting clocks that tick between server pushes.
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const lang = document.querySelector('meta[name="lang"]').content;

  function toast(text, bad) {
    const el = document.getElementById('toast');
    el.textContent = text;
    el.className = 'show' + (bad ? ' bad' : '');
    setTimeout(() => { el.className = ''; }, 3000);
  }

  async function post(url, body) {
    const resp = await fetch(url + (url.includes('?') ? '&' : '?') + 'lang=' + lang, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(body || {}) });
    let data = {};
    try { data = await resp.json(); } catch (e) { /* an empty or non-JSON answer */ }
    if (!resp.ok) {
      const detail = data.error || (typeof data.detail === 'string' ? data.detail : '') ||
        (data.fields || []).map((f) => f.field + ': ' + f.message).join('; ') || resp.statusText;
      throw new Error(detail);
    }
    return data;
  }

  // A cancel the service accepted (202) shows in its row at once; the refresh that follows (and the
  // live push) replace the row with what the service then says.
  function settle(row) {
    row.classList.remove('waiting');
    [...row.classList].forEach((c) => { if (c.startsWith('lvrow-')) row.classList.remove(c); });
    const cell = row.querySelector('td.wait');
    if (cell) { cell.removeAttribute('data-started'); cell.textContent = '—'; }
    row.querySelectorAll('button[data-post$="/cancel"], button[data-post$="/snooze"]').forEach((b) => b.remove());
  }

  async function act(url, body, btn) {
    try {
      await post(url, body);
      toast(lang === 'zh' ? '已提交' : 'Done');
      const row = btn && url.endsWith('/cancel') ? btn.closest('tr[data-room]') : null;
      if (row) settle(row);
      setTimeout(refresh, 700);
    } catch (e) { toast(e.message, true); }
  }

  document.addEventListener('click', (ev) => {
    const btn = ev.target.closest('button[data-post]');
    if (!btn) return;
    ev.preventDefault();
    act(btn.dataset.post, JSON.parse(btn.dataset.body || '{}'), btn);
  });

  document.addEventListener('submit', (ev) => {
    const form = ev.target.closest('form[data-api]');
    if (!form) return;
    ev.preventDefault();
    const body = {};
    new FormData(form).forEach((v, k) => { body[k] = v === '' ? null : v; });
    act(form.dataset.api, body);
  });

  // --- live ---------------------------------------------------------------------------------
  let offset = 0; // server time minus browser time, so the ticking follows the service's clock
  function tick() {
    const now = Date.now() + offset;
    document.querySelectorAll('[data-started]').forEach((el) => {
      const started = Number(el.dataset.started);
      if (!started) return;
      const s = Math.max(0, Math.floor((now - started) / 1000));
      const first = el.firstChild;
      const text = Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0');
      if (first && first.nodeType === Node.TEXT_NODE) first.textContent = text; else el.prepend(text);
    });
  }

  async function refresh() {
    const table = document.getElementById('today');
    if (!table) { location.reload(); return; }
    const resp = await fetch('/fragments/today?lang=' + lang, { credentials: 'same-origin' });
    if (resp.ok) { table.querySelector('tbody').innerHTML = await resp.text(); tick(); }
  }

  const table = document.getElementById('today');
  if (table) {
    offset = Number(table.dataset.now) - Date.now();
    let shape = null;
    const dot = document.getElementById('live-state');
    const source = new EventSource(table.dataset.live + '?lang=' + lang);
    source.addEventListener('today', (ev) => {
      const data = JSON.parse(ev.data);
      offset = data.now - Date.now();
      dot.classList.add('on');
      // Re-render only when the order, the clocks, the levels or the last messages changed.
      const next = JSON.stringify(data.rooms.map((r) => [r.room_id, r.clock_id, r.level, r.last && r.last.message_id,
        r.owner_id, r.snoozed_until, r.pending_approval]));
      if (shape !== null && next !== shape) refresh();
      shape = next;
      tick();
    });
    source.onerror = () => dot.classList.remove('on');
  }
  setInterval(tick, 1000);
})();
