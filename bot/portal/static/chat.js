/*
 * Stagecoach chat: connects the logged-in student to Rasa over socket.io.
 * Identity comes from the short-lived token the portal mints; the server ignores
 * any session id this script could send. A token opens one connection only, so
 * a fresh one is fetched for every connection attempt (socket.io's `auth`
 * callback, which also runs for its automatic reconnects). All text is inserted
 * with textContent (never innerHTML), so nothing a user or the bot writes can run
 * as markup.
 */
(function () {
  "use strict";

  var root = document.getElementById("chat");
  if (!root || typeof io === "undefined") { return; }

  var SESSION_MINUTES = 60;      // Rasa's session_expiration_time
  var MAX_CHARS = 5000;
  var RETRY_MS = 5000;
  var socket = null;
  var typingTimer = null;
  var retryTimer = null;
  var attempt = 0;               // a token fetched for an abandoned attempt is not sent
  var leaving = false;           // logged out: on the way to /login

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  var log = el("div", "chat-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-label", "Gesprek met de coach");
  var status = el("p", "chat-status muted", "Verbinden…");
  status.setAttribute("aria-live", "polite");
  var typing = el("p", "chat-typing muted", "De coach typt…");
  typing.hidden = true;
  var form = el("form", "chat-form");
  var label = el("label", "visually-hidden", "Jouw bericht");
  label.setAttribute("for", "chat-input");
  var input = el("textarea");
  input.id = "chat-input";
  input.rows = 2;
  input.maxLength = MAX_CHARS;
  input.placeholder = "Typ je bericht…";
  var hint = el("p", "chat-hint muted", "");
  hint.setAttribute("aria-live", "polite");
  var send = el("button", "button", "Verstuur");
  send.type = "submit";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);
  root.appendChild(status);
  root.appendChild(log);
  root.appendChild(typing);
  root.appendChild(form);
  root.appendChild(hint);

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function addMessage(from, text, buttons) {
    var item = el("div", "chat-message chat-" + from);
    var who = el("span", "visually-hidden", from === "bot" ? "Coach: " : "Jij: ");
    item.appendChild(who);
    item.appendChild(el("span", "chat-text", text || ""));
    log.appendChild(item);
    if (buttons && buttons.length) {
      var group = el("div", "chat-buttons");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Antwoordknoppen");
      buttons.forEach(function (button) {
        var b = el("button", "button secondary", button.title);
        b.type = "button";
        b.addEventListener("click", function () {
          group.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
          sendMessage(button.payload, button.title);
        });
        group.appendChild(b);
      });
      log.appendChild(group);
    }
    scrollDown();
  }

  function showTyping(on) {
    typing.hidden = !on;
    if (typingTimer) { clearTimeout(typingTimer); }
    if (on) { typingTimer = setTimeout(function () { typing.hidden = true; }, 15000); }
  }

  function sendMessage(payload, shownText) {
    if (!socket || !socket.connected) {
      hint.textContent = "Geen verbinding. Even geduld, ik probeer opnieuw te verbinden.";
      return false;
    }
    if (shownText) { addMessage("student", shownText); }
    socket.emit("user_uttered", { message: payload });
    showTyping(true);
    return true;
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { hint.textContent = "Typ eerst een bericht."; input.focus(); return; }
    if (text.length > MAX_CHARS) { hint.textContent = "Je bericht is te lang (maximaal 5000 tekens)."; return; }
    hint.textContent = "";
    if (sendMessage(text, text)) { input.value = ""; }
  });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (response.status === 401) { leaving = true; window.location.href = "/login"; throw new Error("logged out"); }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      });
  }

  function needsGreeting(history) {
    if (!history.length) { return true; }
    var last = history[history.length - 1].ts;
    return !last || (Date.now() / 1000 - last) > SESSION_MINUTES * 60;
  }

  function retryLater() {
    attempt += 1;
    socket.disconnect();
    if (retryTimer) { return; }
    retryTimer = setTimeout(function () { retryTimer = null; socket.connect(); }, RETRY_MS);
  }

  // Called by socket.io before every connection attempt, its own reconnects included.
  function freshToken(cb) {
    var mine = ++attempt;
    getJSON(root.dataset.tokenUrl)
      .then(function (auth) { if (mine === attempt) { cb({ token: auth.token }); } })
      .catch(function () {
        if (leaving || mine !== attempt) { return; }
        status.textContent = "De chat is nu niet bereikbaar. Probeer het later opnieuw.";
        retryLater();
      });
  }

  function connect(history) {
    socket = io(root.dataset.rasaUrl, { path: "/socket.io", auth: freshToken, reconnection: true });
    socket.on("connect", function () {
      status.textContent = "Verbonden met de coach.";
      socket.emit("session_request", {});
      if (history && needsGreeting(history)) { socket.emit("user_uttered", { message: "/greet" }); showTyping(true); }
      history = null;
    });
    socket.on("bot_uttered", function (data) {
      showTyping(false);
      var buttons = (data && (data.quick_replies || data.buttons)) || [];
      addMessage("bot", data && data.text, buttons);
    });
    socket.on("connect_error", function () {
      status.textContent = "Verbinden lukt niet. Ik probeer het opnieuw…";
      retryLater();  // after 5 s, with a fresh token
    });
    socket.on("disconnect", function () { status.textContent = "Verbinding verbroken. Opnieuw verbinden…"; });
  }

  getJSON(root.dataset.historyUrl)
    .then(function (history) {
      history.forEach(function (m) { addMessage(m.from, m.text, []); });
      connect(history);
    })
    .catch(function () { connect([]); });
})();
