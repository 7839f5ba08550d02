// kuroko's locator engine, evaluated in the page for each step (V8 caches its compilation).
// It finds elements by css, xpath, text, ARIA role and accessible name, label (including the
// <th>/<td> before an input's cell in table-layout forms) and placeholder, inside frames, and
// says why an element is not ready for an action: the caller waits and asks again.
// Answers: {ok: true, value} | {wait: "why not yet"} | {error: "what is wrong"}.
(function (call) {
  'use strict';
  const WS = /[\s\u3000]+/g;
  const squash = (s) => String(s == null ? '' : s).replace(WS, '');
  const collapse = (s) => String(s == null ? '' : s).replace(WS, ' ').trim();
  const clip = (s, n) => (s.length > n ? s.slice(0, n) + '…' : s);
  const FIELD = 'input:not([type=hidden]),select,textarea,[contenteditable=""],[contenteditable=true]';

  function describe(el) {
    let d = '<' + el.tagName.toLowerCase();
    if (el.id) d += ' id="' + el.id + '"';
    const name = el.getAttribute('name');
    if (name) d += ' name="' + name + '"';
    if (el.className && typeof el.className === 'string') d += ' class="' + clip(el.className, 30) + '"';
    d += '>';
    const t = collapse(el.innerText || el.textContent || el.value || '');
    if (t) d += clip(t, 30);
    return d;
  }

  function isVisible(el) {
    if (!el || !el.isConnected) return false;
    if (el.checkVisibility && !el.checkVisibility({ visibilityProperty: true })) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }

  // Text of an element without the text of form fields inside it (a wrapping label's select).
  function ownText(el) {
    let out = '';
    const walk = (n) => {
      for (const c of n.childNodes) {
        if (c.nodeType === 3) out += c.nodeValue;
        else if (c.nodeType === 1 && !c.matches('select,textarea,input,script,style,button')) walk(c);
      }
    };
    walk(el);
    return out;
  }

  // Whole matches when there are any (or when asked for whole text only), else part matches.
  function pick(candidates, textOf, want, exact) {
    const w = squash(want);
    const whole = [];
    const part = [];
    for (const el of candidates) {
      const t = squash(textOf(el));
      if (t === w) whole.push(el);
      else if (!exact && t.includes(w)) part.push(el);
    }
    return whole.length || exact ? whole : part;
  }

  function elementsOf(doc) {
    return Array.from(doc.querySelectorAll('*')).filter(
      (e) => !e.closest('head,script,style,noscript,template'));
  }

  // The innermost elements only (a cell, not its row, table and body as well). Matches are
  // in document order, so an element holding another match is followed by one inside it.
  function innermost(found) {
    return found.filter((el, i) => !(found[i + 1] && el.contains(found[i + 1])));
  }

  function byText(doc, want, exact) {
    const textOf = (el) =>
      el.matches('input[type=button],input[type=submit],input[type=reset]') ? el.value : el.textContent;
    const w = squash(want);
    const whole = [];
    const part = [];
    for (const el of elementsOf(doc)) {
      const t = squash(textOf(el));
      if (t === w) whole.push(el);
      else if (!exact && t.includes(w)) part.push(el);
    }
    // What a person sees first: whole text, then part of it, among visible elements; hidden
    // ones only when nothing visible has the text (so waiting for it to go still works).
    const choices = exact ? [innermost(whole)] : [innermost(whole), innermost(part)];
    for (const c of choices) {
      const seen = c.filter(isVisible);
      if (seen.length) return seen;
    }
    return choices.find((c) => c.length) || [];
  }

  function implicitRole(el) {
    const tag = el.tagName;
    const type = (el.getAttribute('type') || '').toLowerCase();
    switch (tag) {
      case 'A': case 'AREA': return el.hasAttribute('href') ? 'link' : '';
      case 'BUTTON': return 'button';
      case 'INPUT':
        if (['button', 'submit', 'reset', 'image'].includes(type)) return 'button';
        if (type === 'checkbox') return 'checkbox';
        if (type === 'radio') return 'radio';
        if (type === 'range') return 'slider';
        if (type === 'number') return 'spinbutton';
        if (type === 'search') return el.hasAttribute('list') ? 'combobox' : 'searchbox';
        if (type === 'hidden' || type === 'file' || type === 'color' || type === 'date' ||
            type === 'datetime-local' || type === 'month' || type === 'time' || type === 'week') return '';
        return el.hasAttribute('list') ? 'combobox' : 'textbox';
      case 'SELECT': return el.multiple || el.size > 1 ? 'listbox' : 'combobox';
      case 'OPTION': return 'option';
      case 'TEXTAREA': return 'textbox';
      case 'H1': case 'H2': case 'H3': case 'H4': case 'H5': case 'H6': return 'heading';
      case 'IMG': return el.getAttribute('alt') === '' ? '' : 'img';
      case 'TABLE': return 'table';
      case 'TR': return 'row';
      case 'TD': return 'cell';
      case 'TH': return el.getAttribute('scope') === 'row' ? 'rowheader' : 'columnheader';
      case 'UL': case 'OL': return 'list';
      case 'LI': return 'listitem';
      case 'NAV': return 'navigation';
      case 'MAIN': return 'main';
      case 'DIALOG': return 'dialog';
      case 'FIELDSET': return 'group';
      case 'PROGRESS': return 'progressbar';
      case 'FORM': return 'form';
      case 'OUTPUT': return 'status';
      default: return '';
    }
  }

  function roleOf(el) {
    const explicit = (el.getAttribute('role') || '').trim().split(/\s+/)[0];
    return explicit || implicitRole(el);
  }

  const NAME_FROM_CONTENT = new Set(['button', 'cell', 'checkbox', 'columnheader', 'gridcell',
    'heading', 'link', 'menuitem', 'menuitemcheckbox', 'menuitemradio', 'option', 'radio',
    'row', 'rowheader', 'switch', 'tab', 'treeitem', 'listitem']);

  function accessibleName(el, role) {
    const by = el.getAttribute('aria-labelledby');
    if (by) {
      const t = by.split(/\s+/).map((id) => {
        const x = el.ownerDocument.getElementById(id);
        return x ? x.textContent : '';
      }).join(' ');
      if (collapse(t)) return collapse(t);
    }
    const aria = el.getAttribute('aria-label');
    if (aria && aria.trim()) return collapse(aria);
    if (el.matches('input[type=button],input[type=submit],input[type=reset]')) return collapse(el.value);
    if (el.matches('input[type=image],img,area')) return collapse(el.getAttribute('alt'));
    if (el.labels && el.labels.length) {
      const t = Array.from(el.labels).map(ownText).join(' ');
      if (collapse(t)) return collapse(t);
    }
    if (NAME_FROM_CONTENT.has(role)) {
      const t = collapse(el.innerText || el.textContent);
      if (t) return t;
    }
    return collapse(el.getAttribute('title') || el.getAttribute('placeholder') || '');
  }

  function byRole(doc, role, name, nameExact) {
    const out = [];
    for (const el of elementsOf(doc)) {
      if (roleOf(el) !== role) continue;
      if (el.closest('[aria-hidden=true]') || !isVisible(el) && role !== 'option') continue;
      out.push(el);
    }
    if (name == null) return out;
    return pick(out, (el) => accessibleName(el, role), name, nameExact);
  }

  function byLabel(doc, want, exact) {
    const labelled = [];
    // <label for> and wrapping labels.
    for (const l of doc.querySelectorAll('label')) {
      if (l.control) labelled.push([l.control, ownText(l)]);
    }
    // aria-label and aria-labelledby on the fields themselves.
    for (const f of doc.querySelectorAll(FIELD + ',[role=textbox],[role=combobox],[role=checkbox]')) {
      const aria = f.getAttribute('aria-label');
      if (aria) labelled.push([f, aria]);
      const by = f.getAttribute('aria-labelledby');
      if (by) {
        labelled.push([f, by.split(/\s+/).map((id) => {
          const x = doc.getElementById(id);
          return x ? x.textContent : '';
        }).join(' ')]);
      }
    }
    // Table-layout forms: the <th> or <td> just before the field's cell.
    for (const cell of doc.querySelectorAll('th,td')) {
      if (cell.querySelector(FIELD)) continue;
      let next = cell.nextElementSibling;
      while (next && next.tagName !== 'TD' && next.tagName !== 'TH') next = next.nextElementSibling;
      if (!next) continue;
      const field = next.querySelector(FIELD);
      if (field) labelled.push([field, ownText(cell)]);
    }
    const pairs = pick(labelled, (p) => p[1], want, exact);
    return Array.from(new Set(pairs.map((p) => p[0])));
  }

  function query(doc, loc) {
    switch (loc.kind) {
      case 'css':
        try {
          return { els: Array.from(doc.querySelectorAll(loc.value)) };
        } catch (e) {
          return { error: 'css=' + loc.value + ' is not a valid CSS selector' };
        }
      case 'xpath': {
        let snap;
        try {
          snap = doc.evaluate(loc.value, doc, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
        } catch (e) {
          return { error: 'xpath=' + loc.value + ' is not a valid XPath expression' };
        }
        const els = [];
        for (let i = 0; i < snap.snapshotLength; i++) {
          const n = snap.snapshotItem(i);
          if (n.nodeType === 1) els.push(n);
        }
        return { els };
      }
      case 'text': return { els: byText(doc, loc.value, loc.exact) };
      case 'role': return { els: byRole(doc, loc.value, loc.name, loc.nameExact) };
      case 'label': return { els: byLabel(doc, loc.value, loc.exact) };
      case 'placeholder':
        return { els: pick(Array.from(doc.querySelectorAll('[placeholder]')),
          (el) => el.getAttribute('placeholder'), loc.value, loc.exact) };
      default: return { error: 'unknown locator kind ' + loc.kind };
    }
  }

  function matching(doc, target) {
    const r = query(doc, target.loc);
    if (r.error) return r;
    let els = r.els;
    if (target.hasText != null) {
      const w = squash(target.hasText);
      els = els.filter((el) => squash(el.textContent + ' ' + (el.value || '')).includes(w));
    }
    return { els };
  }

  // The one element a step acts on.
  function one(doc, target) {
    const r = matching(doc, target);
    if (r.error) return r;
    const els = r.els;
    if (target.nth != null) {
      const i = target.nth < 0 ? els.length + target.nth : target.nth;
      if (i >= 0 && i < els.length) return { el: els[i] };
      return { wait: els.length ? 'only ' + els.length + ' element(s) match, so there is no nth: ' +
        target.nth : 'no element matches' };
    }
    if (!els.length) return { wait: 'no element matches' };
    if (els.length > 1) {
      return { error: els.length + ' elements match: ' + els.slice(0, 5).map(describe).join(', ') +
        (els.length > 5 ? ', …' : '') + '; say which with #{ nth: 0 } (0 = the first) or #{ has_text: "…" }' };
    }
    return { el: els[0] };
  }

  // The document the locators are looked up in: the page, or a frame inside it, with the
  // frame's offset from the top page (mouse events are given in top-page coordinates).
  function root(frames) {
    let doc = document;
    let ox = 0;
    let oy = 0;
    for (const f of frames) {
      const r = one(doc, f);
      if (!r.el) return { wait: r.wait && 'frame ' + f.loc.source + ': ' + r.wait, error: r.error };
      const el = r.el;
      if (el.tagName !== 'IFRAME' && el.tagName !== 'FRAME') {
        return { error: f.loc.source + ' is ' + describe(el) + ', not a frame or iframe' };
      }
      let inner = null;
      try { inner = el.contentDocument; } catch (e) { inner = null; }
      if (!inner) return { wait: 'frame ' + f.loc.source + ' cannot be reached (it shows a page of another site?)' };
      if (inner.readyState === 'loading') return { wait: 'frame ' + f.loc.source + ' is loading' };
      const rect = el.getBoundingClientRect();
      const cs = getComputedStyle(el);
      ox += rect.left + el.clientLeft + (parseFloat(cs.paddingLeft) || 0);
      oy += rect.top + el.clientTop + (parseFloat(cs.paddingTop) || 0);
      doc = inner;
    }
    return { doc, ox, oy };
  }

  function disabled(el) {
    // Text inside a disabled button (text=登録 finds the <span> in <button disabled>).
    const control = el.parentElement && el.parentElement.closest('button,[role=button],[aria-disabled]');
    if (control && disabled(control)) return true;
    if (el.getAttribute('aria-disabled') === 'true') return true;
    if (!('disabled' in el)) return false;
    if (el.disabled) return true;
    const fs = el.closest('fieldset[disabled]');
    return !!fs && !(fs.firstElementChild && fs.firstElementChild.tagName === 'LEGEND' &&
      fs.firstElementChild.contains(el));
  }

  function fieldKind(el) {
    if (el.isContentEditable) return 'text';
    if (el.tagName === 'TEXTAREA') return 'text';
    if (el.tagName === 'SELECT') return 'select';
    if (el.tagName !== 'INPUT') return 'none';
    const type = (el.getAttribute('type') || 'text').toLowerCase();
    if (type === 'file') return 'file';
    if (type === 'checkbox' || type === 'radio') return 'checkbox';
    if (['button', 'submit', 'reset', 'image'].includes(type)) return 'none';
    if (['date', 'datetime-local', 'month', 'time', 'week', 'color', 'range'].includes(type)) return 'native';
    return 'text';
  }

  const frame = () => new Promise((resolve) => {
    let done = false;
    const end = () => { if (!done) { done = true; resolve(); } };
    requestAnimationFrame(() => requestAnimationFrame(end));
    setTimeout(end, 50);
  });

  // Is the element ready for a step? Attached, visible, enabled (and editable for typing),
  // not moving, and the point a click would land on belongs to it (not to an overlay).
  // The element at a point of the top page, looking into same-origin frames (and framesets).
  function hitThrough(x, y) {
    let hit = document.elementFromPoint(x, y);
    for (let depth = 0; hit && depth < 10; depth++) {
      if (hit.tagName === 'FRAMESET') {
        const inner = Array.from(hit.children).find((f) => {
          const r = f.getBoundingClientRect();
          return x >= r.left && x < r.right && y >= r.top && y < r.bottom;
        });
        if (!inner) break;
        hit = inner;
        continue;
      }
      if (hit.tagName !== 'IFRAME' && hit.tagName !== 'FRAME') break;
      let doc = null;
      try { doc = hit.contentDocument; } catch (e) { doc = null; }
      if (!doc) break;
      const r = hit.getBoundingClientRect();
      const cs = getComputedStyle(hit);
      x -= r.left + hit.clientLeft + (parseFloat(cs.paddingLeft) || 0);
      y -= r.top + hit.clientTop + (parseFloat(cs.paddingTop) || 0);
      const next = doc.elementFromPoint(x, y);
      if (!next) break;
      hit = next;
    }
    return hit;
  }

  // Is the element ready for a step? Attached, visible, enabled (and editable for typing),
  // not moving, and the point a click would land on — in the top page, through its frames —
  // belongs to it (not to an overlay). It is scrolled into view first when that point is not
  // on the screen.
  async function ready(frames, target, checks) {
    let where = root(frames);
    if (!where.doc) return where;
    const r = one(where.doc, target);
    if (!r.el) return r;
    const el = r.el;
    if (!isVisible(el)) return { wait: 'not visible' };
    if (checks.enabled && disabled(el)) return { wait: 'disabled' };
    if (checks.editable && (el.readOnly || el.getAttribute('aria-readonly') === 'true')) {
      return { wait: 'read-only' };
    }
    const point = () => {
      const rect = el.getBoundingClientRect();
      const cx = rect.left + Math.min(rect.width / 2, Math.max(1, rect.width - 1));
      const cy = rect.top + Math.min(rect.height / 2, Math.max(1, rect.height - 1));
      const view = el.ownerDocument.defaultView;
      const x = where.ox + cx;
      const y = where.oy + cy;
      const off = cx < 0 || cy < 0 || cx >= view.innerWidth || cy >= view.innerHeight ||
        x < 0 || y < 0 || x >= window.innerWidth || y >= window.innerHeight;
      return { rect, x, y, off };
    };
    let p = point();
    if (p.off) {
      el.scrollIntoView({ block: 'center', inline: 'center', behavior: 'instant' });
      where = root(frames);
      if (!where.doc) return where;
      p = point();
    }
    if (checks.stable) {
      await frame();
      const again = root(frames);
      const rect = el.getBoundingClientRect();
      if (!again.doc || again.ox !== where.ox || again.oy !== where.oy || rect.x !== p.rect.x ||
          rect.y !== p.rect.y || rect.width !== p.rect.width || rect.height !== p.rect.height) {
        return { wait: 'still moving' };
      }
    }
    if (checks.hit) {
      const hit = hitThrough(p.x, p.y);
      const ok = hit && (hit === el || el.contains(hit) || (hit.control && hit.control === el) ||
        (el.labels && Array.from(el.labels).some((l) => l.contains(hit))));
      if (!ok) {
        return { wait: p.off || !hit ? 'outside the visible page' : 'covered by ' + describe(hit) };
      }
    }
    return { el, x: p.x, y: p.y };
  }

  function fire(el, names) {
    for (const n of names) el.dispatchEvent(new Event(n, { bubbles: true }));
  }

  function setNative(el, value) {
    const proto = el.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
    Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, value);
    fire(el, ['input', 'change']);
  }

  function checkedState(el) {
    if (el.tagName === 'INPUT' && (el.type === 'checkbox' || el.type === 'radio')) return el.checked;
    const aria = el.getAttribute('aria-checked');
    if (aria === 'true' || aria === 'false') return aria === 'true';
    return null;
  }

  function cellValue(cell) {
    const t = (cell.innerText || '').trim();
    if (t) return t;
    const f = cell.querySelector('input,select,textarea');
    if (!f) return '';
    if (f.type === 'checkbox' || f.type === 'radio') return f.checked ? 'true' : 'false';
    return f.tagName === 'SELECT' ? (f.selectedOptions[0] ? f.selectedOptions[0].text : '') : f.value;
  }

  // Cells laid out on a grid: a cell spanning rows or columns fills every place it covers
  // (rows: the same cell; columns: the cell in the first, null in the rest).
  function grid(rows, repeatColumns) {
    const out = rows.map(() => []);
    rows.forEach((row, r) => {
      let c = 0;
      for (const cell of row.cells) {
        while (out[r][c] !== undefined) c++;
        const cols = Math.max(1, cell.colSpan || 1);
        const spanRows = Math.max(1, Math.min(cell.rowSpan || 1, rows.length - r));
        for (let i = 0; i < spanRows; i++) {
          for (let j = 0; j < cols; j++) out[r + i][c + j] = j === 0 || repeatColumns ? cell : null;
        }
        c += cols;
      }
    });
    return out;
  }

  function table(el) {
    if (el.tagName !== 'TABLE') el = el.closest('table') || el.querySelector('table');
    if (!el) return { error: 'the element is not a table and holds none' };
    const own = Array.from(el.rows).filter((row) => row.closest('table') === el &&
      !(el.tFoot && el.tFoot.contains(row)));
    // Header rows: the table head, else the leading rows made only of <th>.
    let heads = own.filter((row) => el.tHead && el.tHead.contains(row));
    if (!heads.length) {
      for (const row of own) {
        if (row.cells.length && Array.from(row.cells).every((c) => c.tagName === 'TH')) heads.push(row);
        else break;
      }
    }
    const bodyRows = own.filter((row) => !heads.includes(row) &&
      !(row.cells.length && Array.from(row.cells).every((c) => c.tagName === 'TH')));
    const headGrid = grid(heads, true);
    const bodyGrid = grid(bodyRows, false);
    const width = Math.max(0, ...headGrid.map((r) => r.length), ...bodyGrid.map((r) => r.length));
    const keys = [];
    const seen = {};
    for (let i = 0; i < width; i++) {
      // 住所 over 都道府県 and 市区町村 gives "住所 都道府県"; 氏名 spanning both rows, "氏名".
      const parts = [];
      for (const row of headGrid) {
        const t = row[i] ? collapse(row[i].innerText) : '';
        if (t && parts[parts.length - 1] !== t) parts.push(t);
      }
      let k = parts.join(' ') || '列' + (i + 1);
      if (seen[k]) { seen[k] += 1; k = k + '_' + seen[k]; } else seen[k] = 1;
      keys.push(k);
    }
    const body = bodyGrid.map((row) => {
      const values = [];
      for (let i = 0; i < width; i++) values.push(row[i] ? cellValue(row[i]) : '');
      return values;
    });
    const sig = body.length + '|' + body.map((r) => r.join('\t')).join('\n').length + '|' +
      (body[0] || []).join('\t') + '|' + (body[body.length - 1] || []).join('\t');
    return { value: { keys, rows: body, sig } };
  }

  async function run() {
    const where = root(call.frames || []);
    if (!where.doc) return where;
    const { doc, ox, oy } = where;
    const t = call.target;
    switch (call.op) {
      case 'frame': return { ok: true, value: true };
      case 'location':
        return { ok: true, value: { url: doc.location.href, title: doc.title, ready: doc.readyState, old: !!doc.__kurokoOld } };
      case 'navigate':
        doc.__kurokoOld = true;
        doc.defaultView.location.assign(call.url);
        return { ok: true, value: true };
      case 'element': {
        const r = one(doc, t);
        return r.el ? { ok: true, value: r.el } : r;
      }
      case 'html': {
        let html = doc.documentElement ? doc.documentElement.outerHTML : '';
        for (const f of doc.querySelectorAll('iframe,frame')) {
          try {
            if (f.contentDocument) html += '\n<!-- frame ' + describe(f) + ' -->\n' + f.contentDocument.documentElement.outerHTML;
          } catch (e) { /* another site */ }
        }
        return { ok: true, value: html };
      }
      case 'count': {
        const r = matching(doc, t);
        return r.error ? r : { ok: true, value: r.els.length };
      }
      case 'state': {
        const r = matching(doc, t);
        if (r.error) return r;
        let els = r.els;
        if (t.nth != null) {
          const i = t.nth < 0 ? els.length + t.nth : t.nth;
          els = i >= 0 && i < els.length ? [els[i]] : [];
        }
        return { ok: true, value: { attached: els.length > 0, visible: els.some(isVisible) } };
      }
      case 'probe': {
        const r = await ready(call.frames || [], t, call.checks);
        return r.el ? { ok: true, value: { x: r.x, y: r.y, kind: fieldKind(r.el), checked: checkedState(r.el) } } : r;
      }
      case 'focus': {
        const r = await ready(call.frames || [], t, call.checks);
        if (!r.el) return r;
        const el = r.el;
        const kind = fieldKind(el);
        if (kind === 'text' || call.anyKind) {
          el.focus();
          if (call.selectAll) {
            if (el.isContentEditable) {
              const range = doc.createRange();
              range.selectNodeContents(el);
              const sel = doc.defaultView.getSelection();
              sel.removeAllRanges();
              sel.addRange(range);
            } else if (el.select) {
              el.select();
            }
          }
        }
        return { ok: true, value: { kind, x: r.x, y: r.y } };
      }
      case 'clear': {
        doc.execCommand('delete');
        return { ok: true, value: true };
      }
      case 'setNative': {
        const r = one(doc, t);
        if (!r.el) return r;
        setNative(r.el, call.text);
        return { ok: true, value: r.el.value };
      }
      case 'read': {
        const r = one(doc, t);
        if (!r.el) return r;
        const el = r.el;
        if (call.what === 'text') return { ok: true, value: (el.innerText || '').trim() };
        if (call.what === 'value') {
          if (el.isContentEditable) return { ok: true, value: el.innerText };
          if (!('value' in el) || el.tagName === 'BUTTON' || el.tagName === 'LI') {
            return { error: describe(el) + ' is not a form field; use text() for what it shows' };
          }
          return { ok: true, value: el.value };
        }
        if (call.what === 'attr') {
          const v = el.getAttribute(call.name);
          return { ok: true, value: v };
        }
        if (call.what === 'checked') return { ok: true, value: checkedState(el) };
        if (call.what === 'fileInput') return { ok: true, value: fieldKind(el) === 'file' };
        if (call.what === 'table') return table(el).error ? table(el) : { ok: true, value: table(el).value };
        return { error: 'unknown read ' + call.what };
      }
      case 'select': {
        const r = await ready(call.frames || [], t, call.checks);
        if (!r.el) return r;
        const el = r.el;
        if (el.tagName !== 'SELECT') return { error: describe(el) + ' is not a drop-down list (<select>)' };
        const options = Array.from(el.options);
        const w = squash(call.text);
        let opt = options.find((o) => squash(o.label || o.text) === w) || options.find((o) => o.value === call.text);
        if (!opt) {
          return { error: 'the list has no option ' + JSON.stringify(call.text) + '; its options: ' +
            options.map((o) => JSON.stringify(collapse(o.label || o.text))).join(', ') };
        }
        if (opt.disabled) return { wait: 'the option ' + JSON.stringify(call.text) + ' is disabled' };
        el.focus();
        opt.selected = true;
        fire(el, ['input', 'change']);
        return { ok: true, value: collapse(opt.label || opt.text) };
      }
      default: return { error: 'unknown operation ' + call.op };
    }
  }
  return run().then((v) => v, (e) => ({ error: 'the page raised: ' + (e && e.message || e) }));
})
