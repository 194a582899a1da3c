// The secreview sandbox page: a small Slack drawn from the fake workspace's state.
// Everything that comes from the state (messages, Block Kit, names) reaches the DOM through textContent and
// createElement only, never innerHTML, so nothing anyone types can become markup.
'use strict';

(() => {
  const EMOJI = {
    lock: '🔒', white_check_mark: '✅', heavy_check_mark: '✔️', heavy_minus_sign: '➖', white_square: '⬜',
    warning: '⚠️', tada: '🎉', wave: '👋', rocket: '🚀', question: '❓', no_entry: '⛔', bar_chart: '📊',
    alarm_clock: '⏰', zap: '⚡', speech_balloon: '💬', shield: '🛡️', raised_hand: '✋', mag: '🔍',
    large_yellow_circle: '🟡', large_green_circle: '🟢', red_circle: '🔴', large_orange_circle: '🟠',
    arrows_counterclockwise: '🔄', x: '❌', eyes: '👀', memo: '📝', calendar: '📅', hourglass: '⌛',
    hourglass_flowing_sand: '⏳', chart_with_upwards_trend: '📈', chart_with_downwards_trend: '📉',
    moneybag: '💰', fire: '🔥', bell: '🔔', thumbsup: '👍', '+1': '👍', thumbsdown: '👎', information_source: 'ℹ️',
    arrow_up: '⬆️', arrow_down: '⬇️', arrow_right: '➡️', clipboard: '📋', key: '🔑', robot_face: '🤖',
    cloud: '☁️', iphone: '📱', credit_card: '💳', inbox_tray: '📥', outbox_tray: '📤', page_facing_up: '📄',
    hammer_and_wrench: '🛠️', star: '⭐', sparkles: '✨', point_right: '👉', muscle: '💪', pray: '🙏',
    pencil2: '✏️', mega: '📣', ballot_box_with_check: '☑️',
  };
  const EXAMPLE = 'Kick-off: we are rolling out Salesforce Service Cloud for the support team, go-live ' +
    'next month. Customer contact data will move there.';
  const REQUIRED = 'Please complete this required field.';

  const ui = {
    me: localStorage.getItem('sandbox.me'),
    data: null,
    version: -1,
    generation: 0,
    poll: null,
    place: { kind: 'channel', id: null }, // or { kind: 'app', tab: 'home' | 'messages' }
    thread: null, // { channel, ts }
    modalKey: null,
    switcherKey: null,
    pressing: false,
    renderWaiting: false,
    fields: [],
    closedViews: new Set(),
    pendingHome: false,
    dismissed: new Set(),
    seen: {}, // user -> conversation -> newest ts seen
  };

  // --- small DOM helpers ---------------------------------------------------------------------------------

  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key === 'dataset') Object.assign(node.dataset, value);
      else if (key === 'style') Object.assign(node.style, value); // CSSOM: allowed by the page's CSP
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const byId = (id) => document.getElementById(id);

  // The app's avatar is drawn, not an emoji, so it looks the same whatever fonts the machine has.
  function lockSvg() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('class', 'lock-icon');
    const shackle = document.createElementNS(ns, 'path');
    shackle.setAttribute('d', 'M8 10V7a4 4 0 0 1 8 0v3');
    shackle.setAttribute('fill', 'none');
    shackle.setAttribute('stroke', 'currentColor');
    shackle.setAttribute('stroke-width', '2.2');
    const body = document.createElementNS(ns, 'rect');
    body.setAttribute('x', '5');
    body.setAttribute('y', '10');
    body.setAttribute('width', '14');
    body.setAttribute('height', '10');
    body.setAttribute('rx', '2');
    body.setAttribute('fill', 'currentColor');
    svg.append(shackle, body);
    return svg;
  }

  function lockIcon(extraClass) {
    return h('span', { class: `avatar bot ${extraClass || ''}`, 'aria-hidden': 'true' }, lockSvg());
  }

  function toast(message) {
    const box = byId('toast');
    box.textContent = message;
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.hidden = true; }, 7000);
  }

  async function api(path, body) {
    let response;
    try {
      response = await fetch(path, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
      });
    } catch (error) {
      toast('The sandbox is not answering. Is `secreview sandbox` still running?');
      return { ok: false };
    }
    let data = {};
    try { data = await response.json(); } catch (error) { data = {}; }
    if (!response.ok || (data.ok === false && data.error)) toast(data.error || `HTTP ${response.status}`);
    return data;
  }

  // --- people, channels, time ----------------------------------------------------------------------------

  function person(id) {
    return (ui.data && ui.data.people.find((p) => p.id === id)) || null;
  }

  function isBot(message) {
    return Boolean(message.bot_id) || (ui.data && message.user === ui.data.bot.user_id);
  }

  function authorName(message) {
    if (isBot(message)) return (ui.data && ui.data.bot.name) || 'secreview';
    if (message.user === 'USLACKBOT') return 'Slackbot';
    const p = person(message.user);
    return p ? p.name : message.user || 'someone';
  }

  function initials(name) {
    return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('') || '?';
  }

  function colour(id) {
    let hash = 0;
    for (const c of String(id)) hash = (hash * 31 + c.charCodeAt(0)) >>> 0;
    return `hsl(${hash % 360}, 45%, 42%)`;
  }

  function avatar(id, name, extraClass) {
    return h('span', { class: `avatar ${extraClass || ''}`, style: { background: colour(id) }, 'aria-hidden': 'true' },
      initials(name));
  }

  function channelById(id) {
    return ui.data ? ui.data.channels.find((c) => c.id === id) : null;
  }

  function tsDate(ts) {
    return new Date(Number(String(ts).split('.')[0]) * 1000);
  }

  function timeText(ts) {
    return tsDate(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  function dayText(ts) {
    const date = tsDate(ts);
    const today = new Date();
    const yesterday = new Date(today.getTime() - 86400000);
    if (date.toDateString() === today.toDateString()) return 'Today';
    if (date.toDateString() === yesterday.toDateString()) return 'Yesterday';
    return date.toLocaleDateString([], { weekday: 'long', month: 'long', day: 'numeric' });
  }

  // --- mrkdwn ----------------------------------------------------------------------------------------------

  function unescapeSlack(text) {
    return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }

  function emojiText(text) {
    return text.replace(/:([a-z0-9_+'-]+):/g, (all, name) => EMOJI[name] || all);
  }

  function safeUrl(url) {
    return /^(https?:|mailto:)/i.test(url) ? url : null;
  }

  function angle(body) {
    const bar = body.indexOf('|');
    const target = bar === -1 ? body : body.slice(0, bar);
    const label = bar === -1 ? '' : unescapeSlack(body.slice(bar + 1));
    if (target.startsWith('@')) {
      const p = person(target.slice(1));
      const name = label || (p ? p.name : target.slice(1));
      return h('span', { class: 'mention' }, `@${name.replace(/^@/, '')}`);
    }
    if (target.startsWith('#')) {
      const ch = channelById(target.slice(1));
      const name = label || (ch ? ch.name : 'private-channel');
      return h('span', {
        class: `mention channel-mention${ch ? ' clickable' : ''}`,
        onclick: ch ? () => openChannel(ch.id) : null,
      }, `#${name}`);
    }
    if (target.startsWith('!date^')) return document.createTextNode(label || 'a date');
    if (target.startsWith('!subteam^')) return h('span', { class: 'mention' }, label || '@group');
    if (['!here', '!channel', '!everyone'].includes(target)) return h('span', { class: 'mention' }, `@${target.slice(1)}`);
    if (target.startsWith('!')) return document.createTextNode(label || target.slice(1));
    const url = safeUrl(unescapeSlack(target));
    const permalink = url && /^https?:\/\/(?:127\.0\.0\.1|localhost)(?::\d+)?\/archives\/([A-Z0-9]+)\/p(\d{7,})/.exec(url);
    if (permalink) {
      // A permalink of the pretend workspace: open the message's thread here, as Slack's client does.
      const ts = `${permalink[2].slice(0, -6)}.${permalink[2].slice(-6)}`;
      return h('a', { href: '#', class: 'permalink', onclick: (event) => { event.preventDefault(); openPermalink(permalink[1], ts); } },
        label || url);
    }
    if (url) return h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, label || url);
    return document.createTextNode(unescapeSlack(`<${body}>`));
  }

  const INLINE = '`([^`\\n]+)`|<([^<>\\n]+)>|\\*([^*\\n]+)\\*|_([^_\\n]+)_|~([^~\\n]+)~|:([a-z0-9_+\'-]+):';

  function inline(text, parent) {
    const re = new RegExp(INLINE, 'g'); // one per call: the nested calls for *bold* must not share lastIndex
    let position = 0;
    let match;
    while ((match = re.exec(text)) !== null) {
      const start = match.index;
      const end = start + match[0].length;
      const styled = match[3] ?? match[4] ?? match[5];
      if (styled !== undefined) {
        // As in Slack: *bold* only at word edges (so snake_case and 2*3*4 stay as they are).
        const before = start === 0 ? '' : text[start - 1];
        const after = end >= text.length ? '' : text[end];
        if (/[A-Za-z0-9]/.test(before) || /[A-Za-z0-9]/.test(after) || /^\s|\s$/.test(styled)) {
          re.lastIndex = start + 1;
          continue;
        }
      }
      if (match[6] !== undefined && !EMOJI[match[6]]) {
        re.lastIndex = start + 1;
        continue;
      }
      if (start > position) parent.append(unescapeSlack(text.slice(position, start)));
      if (match[1] !== undefined) parent.append(h('code', null, unescapeSlack(match[1])));
      else if (match[2] !== undefined) parent.append(angle(match[2]));
      else if (match[3] !== undefined) { const b = h('strong'); inline(match[3], b); parent.append(b); }
      else if (match[4] !== undefined) { const i = h('em'); inline(match[4], i); parent.append(i); }
      else if (match[5] !== undefined) { const s = h('del'); inline(match[5], s); parent.append(s); }
      else parent.append(h('span', { class: 'emoji', title: `:${match[6]}:` }, EMOJI[match[6]]));
      position = end;
    }
    if (position < text.length) parent.append(unescapeSlack(text.slice(position)));
  }

  function lines(text, parent) {
    let quote = null;
    let needBreak = false;
    for (const line of text.split('\n')) {
      const quoted = /^(?:>|&gt;) ?(.*)$/.exec(line);
      if (quoted) {
        if (!quote) {
          quote = h('blockquote');
          parent.append(quote);
        } else {
          quote.append(h('br'));
        }
        inline(quoted[1], quote);
        needBreak = false;
        continue;
      }
      if (needBreak) parent.append(h('br'));
      if (quote) quote = null;
      inline(line, parent);
      needBreak = true;
    }
  }

  function mrkdwn(text, className) {
    const box = h('div', { class: className || 'mrkdwn' });
    const parts = String(text || '').split('```');
    parts.forEach((part, index) => {
      const fenced = index % 2 === 1 && index < parts.length - 1;
      if (fenced) box.append(h('pre', { class: 'code-block' }, unescapeSlack(part.replace(/^\n/, ''))));
      else lines(index % 2 === 1 ? '```' + part : part, box);
    });
    return box;
  }

  function textObject(obj, className) {
    if (!obj) return null;
    if (obj.type === 'mrkdwn') return mrkdwn(obj.text, className);
    return h('div', { class: className || 'plain' }, obj.emoji === false ? obj.text : emojiText(obj.text || ''));
  }

  function plain(obj) {
    return obj ? emojiText(obj.text || '') : '';
  }

  // --- Block Kit -------------------------------------------------------------------------------------------

  function renderBlocks(blocks, context) {
    const box = h('div', { class: 'blocks' });
    blocks.forEach((block, index) => {
      const node = renderBlock(block, index, context);
      if (node) box.append(node);
    });
    return box;
  }

  function renderBlock(block, index, context) {
    switch (block.type) {
      case 'section': {
        const body = h('div', { class: 'section-body' },
          textObject(block.text, 'mrkdwn section-text'),
          block.fields ? h('div', { class: 'section-fields' }, block.fields.map((f) => textObject(f, 'mrkdwn field'))) : null);
        const accessory = block.accessory ? h('div', { class: 'section-accessory' }, renderElement(block.accessory, block, index, context)) : null;
        return h('div', { class: 'block block-section' }, body, accessory);
      }
      case 'header':
        return h('div', { class: 'block block-header', role: 'heading', 'aria-level': '3' }, plain(block.text));
      case 'context':
        return h('div', { class: 'block block-context' }, (block.elements || []).map((e) => (
          e.type === 'image' ? h('span', { class: 'image-alt' }, `[${e.alt_text || 'image'}]`) : textObject(e, 'mrkdwn context-item'))));
      case 'divider':
        return h('hr', { class: 'block block-divider' });
      case 'actions':
        return h('div', { class: 'block block-actions' }, (block.elements || []).map((e) => renderElement(e, block, index, context)));
      case 'image':
        // Never fetched: an image URL could point anywhere on the internet, and the sandbox stays offline.
        return h('div', { class: 'block image-alt' }, `[image: ${block.alt_text || ''}]`);
      case 'rich_text':
        return null;
      case 'input':
        return h('div', { class: 'block block-context' }, plain(block.label));
      default:
        return h('div', { class: 'block unsupported' }, `[${block.type} block: not shown in the sandbox]`);
    }
  }

  function renderElement(element, block, index, context) {
    if (element.type === 'button') {
      const style = element.style === 'primary' || element.style === 'danger' ? ` btn-${element.style}` : '';
      const button = h('button', { type: 'button', class: `btn${style}` }, plain(element.text));
      button.addEventListener('click', () => clickButton(element, block, context, button));
      return button;
    }
    if (element.type === 'image') return h('span', { class: 'image-alt' }, `[${element.alt_text || 'image'}]`);
    return h('span', { class: 'unsupported' }, `[${element.type}]`);
  }

  function confirmText(confirm) {
    // window.confirm shows plain text: mentions become names, as Slack's dialog shows them.
    const named = (text) => text.replace(/<@([UW][A-Z0-9]+)(?:\|[^>]*)?>/g, (all, id) => `@${(person(id) || { name: id }).name}`);
    const parts = [plain(confirm.title), confirm.text ? unescapeSlack(named(confirm.text.text || '')).replace(/[*_~`]/g, '') : ''];
    return parts.filter(Boolean).join('\n\n');
  }

  async function clickButton(element, block, context, button) {
    if (element.url && safeUrl(element.url)) window.open(element.url, '_blank', 'noopener');
    if (element.confirm && !window.confirm(confirmText(element.confirm))) return;
    button.disabled = true;
    button.classList.add('busy');
    await api('/api/click', {
      user: ui.me, source: context.source, channel: context.channel || null, ts: context.ts || null,
      view_id: context.viewId || null,
      action: { action_id: element.action_id, value: element.value ?? '', block_id: block.block_id || null },
    });
    button.disabled = false;
    button.classList.remove('busy');
  }

  // --- messages ----------------------------------------------------------------------------------------------

  function hasBlocks(message) {
    return Array.isArray(message.blocks) && message.blocks.some((b) => b.type !== 'rich_text');
  }

  function renderFiles(files) {
    return (files || []).map((file) => {
      const url = `/api/file/${encodeURIComponent(file.id)}`;
      if (/^image\/(png|jpeg|gif)$/.test(file.mimetype || '')) {
        return h('figure', { class: 'file-image' }, h('img', { src: url, alt: file.title || file.name || 'image', onload: stickToBottom }),
          h('figcaption', null, file.title || file.name || ''));
      }
      return h('a', { class: 'file-chip', href: url, download: file.name || 'file' },
        h('span', { class: 'file-icon', 'aria-hidden': 'true' }, '📄'),
        h('span', null, h('strong', null, file.title || file.name || 'file'), h('small', null, file.name || '')));
    });
  }

  function renderAttachments(attachments, context) {
    return (attachments || []).map((a) => h('div', { class: 'attachment', style: { borderLeftColor: a.color ? `#${String(a.color).replace('#', '')}` : '' } },
      a.blocks ? renderBlocks(a.blocks, context) : mrkdwn(a.text || a.fallback || '')));
  }

  function renderMessage(message, options) {
    const ephemeral = options.ephemeral;
    // Ephemeral messages carry the recipient as `user`, but only the app sends them.
    const bot = ephemeral || isBot(message);
    const name = ephemeral ? ui.data.bot.name : authorName(message);
    const context = ephemeral
      ? { source: 'ephemeral', channel: message.channel, ts: message.ts }
      : { source: 'message', channel: options.channel, ts: message.ts };
    const classes = ['msg'];
    if (ephemeral) classes.push('ephemeral');
    if (options.compact) classes.push('compact');
    const gutter = options.compact
      ? h('span', { class: 'gutter-time' }, timeText(message.ts))
      : bot ? lockIcon() : avatar(message.user, name);
    const head = options.compact ? null : h('div', { class: 'msg-head' },
      h('span', { class: 'author' }, name),
      bot ? h('span', { class: 'badge' }, 'APP') : null,
      h('span', { class: 'time', title: tsDate(message.ts).toLocaleString() }, timeText(message.ts)),
      message.edited ? h('span', { class: 'edited' }, '(edited)') : null);
    let content;
    if (message.subtype === 'tombstone') content = h('div', { class: 'mrkdwn deleted' }, 'This message was deleted.');
    else if (hasBlocks(message)) content = renderBlocks(message.blocks, context);
    else content = mrkdwn(message.text);
    const extras = [];
    if (ephemeral) {
      extras.push(h('div', { class: 'ephemeral-note' }, h('span', { 'aria-hidden': 'true' }, '👁 '), 'Only visible to you · ',
        h('button', { type: 'button', class: 'link-button', onclick: () => { ui.dismissed.add(message.ts); render(); } }, 'Dismiss')));
    }
    if (options.inChannel && message.reply_count) {
      const n = message.reply_count;
      extras.push(h('button', {
        type: 'button', class: 'replies', 'data-testid': 'replies',
        onclick: () => openThread(options.channel, message.ts),
      }, h('span', { class: 'reply-avatars' }, (message.reply_users || []).slice(0, 3).map((u) => (
        u === ui.data.bot.user_id ? lockIcon('tiny') : avatar(u, (person(u) || { name: u }).name, 'tiny')))),
      h('span', { class: 'reply-count' }, `${n} ${n === 1 ? 'reply' : 'replies'}`),
      message.latest_reply ? h('span', { class: 'reply-last' }, `Last reply ${timeText(message.latest_reply)}`) : null));
    }
    return h('div', { class: classes.join(' '), dataset: { ts: message.ts }, 'data-testid': ephemeral ? 'ephemeral' : 'message' },
      h('div', { class: 'msg-gutter' }, gutter),
      h('div', { class: 'msg-body' }, head, content, renderFiles(message.files), renderAttachments(message.attachments, context), extras));
  }

  // A conversation read at its newest message stays there when something below grows (an image loads).
  function trackBottom(container) {
    container.dataset.stick = '1';
    container.addEventListener('scroll', () => {
      // Only the person's own scrolling says whether they read at the bottom: the events of our own scrolling
      // arrive after a relayout (the thread pane opening) may have moved the bottom away already.
      if (performance.now() - (container.scrolledByPage || 0) < 150) return;
      container.dataset.stick = container.scrollHeight - container.scrollTop - container.clientHeight < 40 ? '1' : '0';
    });
    // Opening the thread pane narrows this one, so its messages wrap taller: a conversation read at its newest
    // message stays there instead of leaving that message hidden below the message box.
    new ResizeObserver(() => {
      if (container.dataset.stick === '1') scrollToBottom(container);
    }).observe(container);
  }

  function scrollToBottom(container) {
    container.scrolledByPage = performance.now();
    container.dataset.stick = '1';
    container.scrollTop = container.scrollHeight;
  }

  function stickToBottom(event) {
    const container = event.target.closest('.messages');
    if (container && container.dataset.stick === '1') scrollToBottom(container);
  }

  function renderTimeline(container, items, options) {
    const keepBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40 || options.forceBottom;
    const scrollTop = container.scrollTop;
    const nodes = [];
    let previous = null;
    for (const item of items) {
      const day = dayText(item.message.ts);
      if (options.dayDividers && (!previous || dayText(previous.message.ts) !== day)) {
        nodes.push(h('div', { class: 'day-divider' }, h('span', null, day)));
        previous = null;
      }
      const compact = previous && !item.ephemeral && !previous.ephemeral && previous.message.user === item.message.user &&
        Boolean(previous.message.bot_id) === Boolean(item.message.bot_id) && !previous.message.reply_count &&
        tsDate(item.message.ts) - tsDate(previous.message.ts) < 5 * 60 * 1000;
      nodes.push(renderMessage(item.message, { ...options, ephemeral: item.ephemeral, compact }));
      previous = item;
    }
    if (!items.length && options.empty) nodes.push(h('div', { class: 'empty' }, options.empty));
    container.replaceChildren(...nodes);
    if (keepBottom) scrollToBottom(container);
    else container.scrollTop = scrollTop;
  }

  function ephemeralsIn(channel, threadTs) {
    return ui.data.ephemerals
      .filter((e) => e.channel === channel && (e.thread_ts || null) === (threadTs || null) && !ui.dismissed.has(e.ts))
      .map((e) => ({ message: e, ephemeral: true }));
  }

  function byTs(a, b) {
    return a.message.ts < b.message.ts ? -1 : a.message.ts > b.message.ts ? 1 : 0;
  }

  // --- the page ------------------------------------------------------------------------------------------

  function conversation() {
    if (ui.place.kind === 'app') return ui.data.dm;
    return channelById(ui.place.id);
  }

  function newestTs(conv) {
    let newest = '';
    for (const m of conv.messages) if (m.ts > newest) newest = m.ts;
    for (const e of ui.data.ephemerals) if (e.channel === conv.id && e.ts > newest) newest = e.ts;
    return newest;
  }

  function markSeen(conv) {
    if (conv) (ui.seen[ui.me] ||= {})[conv.id] = newestTs(conv);
  }

  function unread(conv) {
    const seen = (ui.seen[ui.me] || {})[conv.id];
    return seen !== undefined && newestTs(conv) > seen;
  }

  function renderSwitcher() {
    const box = byId('switcher');
    const people = ui.data.people.filter((p) => p.switchable);
    // Rebuilt only when it changes: a poll that replaced the buttons between a press and its release would
    // swallow the click (the browser sends no click when mousedown and mouseup land on different elements).
    const key = JSON.stringify([ui.me, people.map((p) => [p.id, p.handle, p.name, p.role])]);
    if (key === ui.switcherKey) return;
    ui.switcherKey = key;
    box.replaceChildren(...people.map((p) => h('button', {
      type: 'button', class: `person${p.id === ui.me ? ' active' : ''}`, 'data-testid': `as-${p.handle}`,
      'aria-pressed': p.id === ui.me ? 'true' : 'false', title: `Act as ${p.name} (${p.role})`,
      onclick: () => switchUser(p.id),
    }, avatar(p.id, p.name, 'small'), h('span', { class: 'person-text' }, h('span', { class: 'person-name' }, p.name),
      h('span', { class: 'person-role' }, p.role)))));
  }

  function renderSidebar() {
    byId('team-name').textContent = ui.data.team.name;
    byId('channel-list').replaceChildren(...ui.data.channels.map((ch) => h('li', null, h('button', {
      type: 'button', 'data-testid': `channel-${ch.name}`,
      class: `sidebar-item${ui.place.kind === 'channel' && ui.place.id === ch.id ? ' active' : ''}${unread(ch) ? ' unread' : ''}`,
      onclick: () => openChannel(ch.id),
    }, h('span', { class: 'sidebar-icon', 'aria-hidden': 'true' }, ch.is_private ? lockSvg() : '#'), ch.name))));
    byId('app-list').replaceChildren(h('li', null, h('button', {
      type: 'button', 'data-testid': 'app-secreview',
      class: `sidebar-item${ui.place.kind === 'app' ? ' active' : ''}${unread(ui.data.dm) ? ' unread' : ''}`,
      onclick: () => openApp(ui.place.kind === 'app' ? ui.place.tab : 'home'),
    }, lockIcon('tiny'), ui.data.bot.name)));
  }

  function renderHeader() {
    const header = byId('pane-header');
    if (ui.place.kind === 'app') {
      header.replaceChildren(h('div', { class: 'pane-title' }, lockIcon(),
        h('span', null, ui.data.bot.name), h('span', { class: 'badge' }, 'APP')),
        h('div', { class: 'pane-purpose' }, 'Security reviews for new IT projects'));
      return;
    }
    const ch = conversation();
    header.replaceChildren(h('div', { class: 'pane-title' }, h('span', { class: 'pane-icon', 'aria-hidden': 'true' }, ch.is_private ? lockSvg() : '#'),
      h('span', { 'data-testid': 'channel-title' }, ch.name)),
    h('div', { class: 'pane-purpose' }, ch.purpose || ''));
  }

  function renderMain() {
    const messages = byId('messages');
    const home = byId('home');
    const tabs = byId('app-tabs');
    const composer = byId('composer');
    const input = byId('composer-input');
    renderHeader();
    if (ui.place.kind === 'app') {
      tabs.hidden = false;
      byId('tab-home').classList.toggle('active', ui.place.tab === 'home');
      byId('tab-messages').classList.toggle('active', ui.place.tab === 'messages');
      byId('tab-home').setAttribute('aria-selected', String(ui.place.tab === 'home'));
      byId('tab-messages').setAttribute('aria-selected', String(ui.place.tab === 'messages'));
    } else {
      tabs.hidden = true;
    }
    const onHome = ui.place.kind === 'app' && ui.place.tab === 'home';
    home.hidden = !onHome;
    messages.hidden = onHome;
    // secreview's manifest makes its Messages tab read-only: Slack shows this note instead of a message box.
    composer.hidden = ui.place.kind === 'app';
    byId('read-only').hidden = !(ui.place.kind === 'app' && ui.place.tab === 'messages');
    if (onHome) {
      const view = ui.data.home;
      const keep = home.scrollTop;
      home.replaceChildren(view ? renderBlocks(view.blocks || [], { source: 'home', viewId: view.id })
        : h('div', { class: 'empty' }, 'Opening App Home…'));
      home.scrollTop = keep;
      return;
    }
    const conv = conversation();
    const items = conv.messages.map((m) => ({ message: m, ephemeral: false }))
      .concat(ephemeralsIn(conv.id, null)).sort(byTs);
    const switched = messages.dataset.conv !== `${ui.me}:${conv.id}`;
    messages.dataset.conv = `${ui.me}:${conv.id}`;
    renderTimeline(messages, items, {
      channel: conv.id, inChannel: true, dayDividers: true, forceBottom: switched,
      empty: ui.place.kind === 'app' ? 'secreview will write to you here: decisions, questions, reminders.'
        : 'No messages yet.',
    });
    input.placeholder = `Message #${conv.name} — or type /secreview help`;
    markSeen(conv);
  }

  function renderThread() {
    const pane = byId('thread');
    const conv = ui.thread && (ui.thread.channel === ui.data.dm.id ? ui.data.dm : channelById(ui.thread.channel));
    const parent = conv && conv.messages.find((m) => m.ts === ui.thread.ts);
    if (!parent) {
      pane.hidden = true;
      return;
    }
    pane.hidden = false;
    byId('thread-channel').textContent = conv === ui.data.dm ? 'secreview' : `#${conv.name}`;
    const replies = (conv.threads[parent.ts] || []).map((m) => ({ message: m, ephemeral: false }))
      .concat(ephemeralsIn(conv.id, parent.ts)).sort(byTs);
    const container = byId('thread-messages');
    const switched = container.dataset.thread !== `${ui.me}:${parent.ts}`;
    container.dataset.thread = `${ui.me}:${parent.ts}`;
    const keepBottom = switched || container.scrollHeight - container.scrollTop - container.clientHeight < 40;
    const head = renderMessage(parent, { channel: conv.id, inChannel: false });
    const count = parent.reply_count || 0;
    const list = h('div');
    renderTimeline(list, replies, { channel: conv.id, inChannel: false, dayDividers: false });
    const keep = container.scrollTop;
    container.replaceChildren(head, h('div', { class: 'reply-divider' }, h('span', null, `${count} ${count === 1 ? 'reply' : 'replies'}`)),
      ...list.childNodes);
    if (keepBottom) scrollToBottom(container);
    else container.scrollTop = keep;
  }

  // While a pointer is pressed nothing is redrawn: replacing the element under it between press and release would
  // swallow the click (the browser sends none when mousedown and mouseup land on different elements). The redraw
  // that waited runs right after the click.
  document.addEventListener('pointerdown', () => { ui.pressing = true; }, true);
  const released = () => {
    ui.pressing = false;
    if (ui.renderWaiting) { ui.renderWaiting = false; setTimeout(render, 0); }
  };
  // A press can also end without a release here (cancelled, or released outside the window).
  ['pointerup', 'pointercancel'].forEach((name) => document.addEventListener(name, released, true));
  window.addEventListener('blur', released);

  function render() {
    if (!ui.data) return;
    if (ui.pressing) { ui.renderWaiting = true; return; }
    if (ui.place.kind === 'channel' && !channelById(ui.place.id)) {
      ui.place = { kind: 'channel', id: ui.data.special.announce };
      if (!channelById(ui.place.id)) ui.place.id = ui.data.channels[0].id;
    }
    renderMain();
    renderSidebar();
    renderSwitcher();
    renderThread();
    renderModal();
  }

  // --- navigation ------------------------------------------------------------------------------------------

  function openChannel(id) {
    ui.place = { kind: 'channel', id };
    if (ui.thread && ui.thread.channel !== id) ui.thread = null;
    render();
    byId('composer-input').focus();
  }

  function openApp(tab) {
    ui.place = { kind: 'app', tab };
    if (ui.thread && ui.thread.channel !== ui.data.dm.id) ui.thread = null;
    render();
    // Slack sends app_home_opened every time a tab is opened; secreview publishes the Home tab in answer.
    api('/api/home', { user: ui.me, tab });
  }

  function openPermalink(channel, ts) {
    const conv = ui.data && [...ui.data.channels, ui.data.dm].find((c) => c.id === channel);
    if (!conv) { toast('That message is in a conversation you cannot see.'); return; }
    const parent = conv.messages.find((m) => m.ts === ts);
    if (conv.id === ui.data.dm.id) openApp('messages'); else openChannel(conv.id);
    if (parent) openThread(conv.id, ts);
  }

  function openThread(channel, ts) {
    ui.thread = { channel, ts };
    render();
    byId('thread-input').focus();
  }

  function switchUser(id) {
    if (id === ui.me) return;
    ui.me = id;
    localStorage.setItem('sandbox.me', id);
    ui.thread = null;
    ui.data = null;
    ui.pendingHome = ui.place.kind === 'app';
    refreshNow();
  }

  // --- modals ----------------------------------------------------------------------------------------------

  function renderModal() {
    const root = byId('modal-root');
    let view = ui.data.modal;
    if (view && ui.closedViews.has(view.id)) view = null;
    const key = view ? `${ui.me}:${view.id}:${view.hash}` : null;
    if (key === ui.modalKey) return; // re-drawing would wipe what the person has typed
    ui.modalKey = key;
    ui.fields = [];
    root.replaceChildren();
    if (!view) return;
    const body = h('div', { class: 'modal-body' });
    (view.blocks || []).forEach((block, index) => {
      body.append(block.type === 'input' ? renderInput(block) : renderBlock(block, index, { source: 'modal', viewId: view.id }));
    });
    const general = h('div', { class: 'modal-error', role: 'alert', hidden: true });
    const submit = view.submit ? h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'modal-submit' }, plain(view.submit)) : null;
    const form = h('form', { class: 'modal', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'modal-title', 'data-testid': 'modal', novalidate: true },
      h('div', { class: 'modal-header' }, h('h2', { id: 'modal-title' }, plain(view.title)),
        h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => closeModal(view) }, '×')),
      body, general,
      h('div', { class: 'modal-footer' },
        h('button', { type: 'button', class: 'btn', onclick: () => closeModal(view) }, plain(view.close) || 'Cancel'), submit));
    form.addEventListener('submit', (event) => { event.preventDefault(); if (submit) submitModal(view, submit, general); });
    form.addEventListener('keydown', (event) => { if (event.key === 'Escape') closeModal(view); });
    root.append(h('div', { class: 'overlay' }, form));
    const first = form.querySelector('input:not([type=radio]):not([type=checkbox]), textarea, select');
    if (first) first.focus();
  }

  function option(o) {
    const copy = { text: o.text, value: o.value };
    if (o.description) copy.description = o.description;
    return copy;
  }

  function allOptions(element) {
    if (element.option_groups) return element.option_groups.flatMap((g) => g.options || []);
    return element.options || [];
  }

  function renderInput(block) {
    const element = block.element || {};
    const id = `field-${block.block_id}`;
    const error = h('div', { class: 'field-error', role: 'alert', hidden: true });
    const field = {
      blockId: block.block_id, actionId: element.action_id, optional: Boolean(block.optional),
      get: () => ({ type: element.type, value: null }), empty: () => true,
      setError: (message) => { error.textContent = message || ''; error.hidden = !message; wrapper.classList.toggle('has-error', Boolean(message)); },
    };
    let control;
    switch (element.type) {
      case 'plain_text_input': {
        const props = { id, class: 'input', maxlength: element.max_length || null, placeholder: element.placeholder ? plain(element.placeholder) : null };
        control = element.multiline ? h('textarea', { ...props, rows: 4 }) : h('input', { ...props, type: 'text' });
        control.value = element.initial_value || '';
        field.get = () => ({ type: element.type, value: control.value === '' ? null : control.value });
        field.empty = () => control.value.trim() === '';
        break;
      }
      case 'static_select':
      case 'users_select': {
        const users = element.type === 'users_select';
        const choices = users
          ? ui.data.people.map((p) => ({ value: p.id, label: p.role ? `${p.name} (${p.role})` : p.name }))
          : allOptions(element).map((o) => ({ value: o.value, label: plain(o.text), option: o }));
        const initial = users ? element.initial_user : element.initial_option && element.initial_option.value;
        control = h('select', { id, class: 'input' },
          h('option', { value: '' }, element.placeholder ? plain(element.placeholder) : 'Select an item'),
          choices.map((c) => h('option', { value: c.value, selected: c.value === initial }, c.label)));
        field.get = () => {
          const value = control.value || null;
          if (users) return { type: element.type, selected_user: value };
          const chosen = choices.find((c) => c.value === value);
          return { type: element.type, selected_option: chosen ? option(chosen.option) : null };
        };
        field.empty = () => !control.value;
        break;
      }
      case 'multi_static_select': {
        const choices = allOptions(element);
        const selected = new Set((element.initial_options || []).map((o) => o.value));
        const chips = h('div', { class: 'chips' });
        const adder = h('select', { id, class: 'input chip-adder' });
        const redraw = () => {
          chips.replaceChildren(...choices.filter((o) => selected.has(o.value)).map((o) => h('span', { class: 'chip' }, plain(o.text),
            h('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove ${plain(o.text)}`, onclick: () => { selected.delete(o.value); redraw(); } }, '×'))));
          adder.replaceChildren(h('option', { value: '' }, element.placeholder ? plain(element.placeholder) : 'Add…'),
            choices.filter((o) => !selected.has(o.value)).map((o) => h('option', { value: o.value }, plain(o.text))));
        };
        adder.addEventListener('change', () => { if (adder.value) { selected.add(adder.value); redraw(); } });
        redraw();
        control = h('div', { class: 'multi' }, chips, adder);
        field.get = () => ({ type: element.type, selected_options: choices.filter((o) => selected.has(o.value)).map(option) });
        field.empty = () => selected.size === 0;
        break;
      }
      case 'radio_buttons':
      case 'checkboxes': {
        const radio = element.type === 'radio_buttons';
        const initial = radio ? [element.initial_option && element.initial_option.value]
          : (element.initial_options || []).map((o) => o.value);
        const inputs = [];
        control = h('div', { class: 'choices', role: radio ? 'radiogroup' : 'group', id },
          (element.options || []).map((o, i) => {
            const input = h('input', { type: radio ? 'radio' : 'checkbox', name: id, value: o.value, id: `${id}-${i}`, checked: initial.includes(o.value) });
            inputs.push({ input, option: o });
            return h('label', { class: 'choice', for: `${id}-${i}` }, input,
              h('span', { class: 'choice-text' }, h('span', null, plain(o.text)),
                o.description ? h('small', null, plain(o.description)) : null));
          }));
        const chosen = () => inputs.filter((x) => x.input.checked).map((x) => option(x.option));
        field.get = () => (radio ? { type: element.type, selected_option: chosen()[0] || null }
          : { type: element.type, selected_options: chosen() });
        field.empty = () => chosen().length === 0;
        break;
      }
      case 'datepicker': {
        control = h('input', { id, type: 'date', class: 'input date' });
        control.value = element.initial_date || '';
        field.get = () => ({ type: element.type, selected_date: control.value || null });
        field.empty = () => !control.value;
        break;
      }
      default:
        control = h('div', { class: 'unsupported' }, `[${element.type}: not supported in the sandbox]`);
    }
    // An error under a field goes as soon as the person changes that field (Slack clears it the same way).
    const clear = () => { if (!error.hidden) field.setError(''); };
    control.addEventListener('input', clear);
    control.addEventListener('change', clear);
    const wrapper = h('div', { class: 'input-block', dataset: { blockId: block.block_id } },
      h('label', { class: 'input-label', for: id }, plain(block.label), block.optional ? h('span', { class: 'optional' }, ' (optional)') : null),
      control,
      block.hint ? h('div', { class: 'hint' }, plain(block.hint)) : null,
      error);
    ui.fields.push(field);
    return wrapper;
  }

  async function submitModal(view, button, general) {
    general.hidden = true;
    let missing = false;
    for (const field of ui.fields) {
      field.setError('');
      // Slack checks required inputs in the client and never sends an incomplete form.
      if (!field.optional && field.empty()) {
        field.setError(REQUIRED);
        missing = true;
      }
    }
    if (missing) return;
    const values = {};
    for (const field of ui.fields) (values[field.blockId] ||= {})[field.actionId] = field.get();
    button.disabled = true;
    button.classList.add('busy');
    const answer = await api('/api/submit', { user: ui.me, view_id: view.id, values });
    button.disabled = false;
    button.classList.remove('busy');
    if (answer.ok) {
      ui.closedViews.add(view.id);
      renderModal();
      return;
    }
    if (answer.errors) {
      for (const [blockId, message] of Object.entries(answer.errors)) {
        const field = ui.fields.find((f) => f.blockId === blockId);
        if (field) field.setError(message);
        else { general.textContent = message; general.hidden = false; }
      }
      const first = document.querySelector('.input-block.has-error');
      if (first) first.scrollIntoView({ block: 'center' });
    } else if (answer.message) {
      general.textContent = answer.message;
      general.hidden = false;
    }
  }

  function closeModal(view) {
    ui.closedViews.add(view.id);
    renderModal();
    api('/api/close', { user: ui.me, view_id: view.id });
  }

  // --- composing -------------------------------------------------------------------------------------------

  function autoGrow(textarea) {
    textarea.style.height = 'auto';
    textarea.style.height = `${Math.min(textarea.scrollHeight, 200)}px`;
  }

  async function send(textarea, threadTs) {
    const text = textarea.value.trim();
    if (!text || !ui.data) return;
    const conv = threadTs ? { id: ui.thread.channel } : conversation();
    textarea.disabled = true;
    const answer = await api('/api/message', { user: ui.me, channel: conv.id, text, thread_ts: threadTs || null });
    textarea.disabled = false;
    if (answer.ok) {
      textarea.value = '';
      autoGrow(textarea);
      byId('command-hint').hidden = true;
    }
    textarea.focus();
  }

  function wireComposer(form, textarea, threadTs) {
    form.addEventListener('submit', (event) => { event.preventDefault(); send(textarea, threadTs()); });
    textarea.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        send(textarea, threadTs());
      }
    });
    textarea.addEventListener('input', () => {
      autoGrow(textarea);
      if (form.id === 'composer') {
        const hint = byId('command-hint');
        hint.hidden = !textarea.value.startsWith('/');
        hint.replaceChildren(h('strong', null, '/secreview '), (ui.data ? ui.data.commands : []).join(' · '));
      }
    });
  }

  // --- state from the server ---------------------------------------------------------------------------------

  function apply(data) {
    const first = !ui.seen[data.me];
    ui.data = data;
    ui.version = data.version;
    if (ui.me !== data.me) {
      ui.me = data.me;
      localStorage.setItem('sandbox.me', data.me);
    }
    if (first) {
      ui.seen[data.me] = {};
      for (const conv of [...data.channels, data.dm]) ui.seen[data.me][conv.id] = newestTs(conv);
    }
    render();
  }

  function refreshNow() {
    ui.generation += 1;
    ui.version = -1;
    if (ui.poll) ui.poll.abort();
  }

  async function pollForever() {
    for (;;) {
      const generation = ui.generation;
      const controller = new AbortController();
      ui.poll = controller;
      try {
        const query = `user=${encodeURIComponent(ui.me || '')}&since=${ui.version}`;
        const response = await fetch(`/api/state?${query}`, { signal: controller.signal, cache: 'no-store' });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const data = await response.json();
        if (generation !== ui.generation) continue; // the person switched meanwhile: this state is not theirs
        byId('live').classList.remove('offline');
        byId('live').textContent = 'live';
        apply(data);
        if (ui.pendingHome && ui.place.kind === 'app') {
          // Switched person while the app was open: Slack would send app_home_opened for the new person.
          ui.pendingHome = false;
          api('/api/home', { user: ui.me, tab: ui.place.tab });
        }
      } catch (error) {
        if (error.name === 'AbortError') continue;
        byId('live').classList.add('offline');
        byId('live').textContent = 'reconnecting…';
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  function start() {
    trackBottom(byId('messages'));
    trackBottom(byId('thread-messages'));
    wireComposer(byId('composer'), byId('composer-input'), () => null);
    wireComposer(byId('thread-composer'), byId('thread-input'), () => ui.thread && ui.thread.ts);
    byId('thread-close').addEventListener('click', () => { ui.thread = null; render(); });
    byId('tab-home').addEventListener('click', () => openApp('home'));
    byId('tab-messages').addEventListener('click', () => openApp('messages'));
    byId('post-digest').addEventListener('click', async () => {
      if (!ui.data) return;
      openChannel(ui.data.special.digest);
      await api('/api/digest', { user: ui.me });
    });
    byId('example').addEventListener('click', () => {
      if (!ui.data) return;
      openChannel(ui.data.special.announce);
      const input = byId('composer-input');
      input.value = EXAMPLE;
      autoGrow(input);
      input.focus();
    });
    pollForever();
  }

  start();
})();
