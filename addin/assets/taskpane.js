/*
 * elksxl add-in: the task pane's behaviour. Wires the controls to the backend (elksxl.api),
 * the workbook (elksxl.excel) and the drawing code (elksxl.render): live counter, templates,
 * preview, send with confirmation, progress polling, cancel, and resuming the workbook's
 * campaign when the pane opens. Sets window.elksxl.pane.
 */
(function () {
  "use strict";
  var elksxl = (window.elksxl = window.elksxl || {});
  var TEST_NUMBER = "+46700000000";
  var ACTIVE = { running: true, cancelling: true };
  var REPORTS_FOR_MS = 2 * 60 * 60 * 1000; // how long after a run the pane waits for delivery reports
  var state = { templates: [], text: null, textSeq: 0, timer: null, run: null, cursor: "", preview: null };

  function $(id) {
    return document.getElementById(id);
  }

  function pollMs() {
    return window.ELKSXL_POLL_MS || 1000;
  }

  function showStatus(text, kind) {
    var box = $("status");
    box.textContent = text;
    box.className = "status" + (kind === "info" ? " info" : "");
    box.hidden = !text;
  }

  function showError(error) {
    if (error && error.status === 401) {
      var settings = $("settings");
      settings.open = true;
      showStatus("The access token is missing or wrong. Enter it under Settings and press Save.");
      $("token").focus();
      return;
    }
    var where = error && error.where ? " (" + error.where + ")" : "";
    showStatus(((error && error.message) || String(error)) + where);
  }

  function options() {
    return { smart_encoding: false, mobile_only: false, allow_landlines: false, phone_column: null, region: null };
  }

  async function previewBody(message) {
    var body = await elksxl.excel.readSelection();
    body.message = message;
    body.sender = $("sender").value.trim() || null;
    body.options = options();
    return body;
  }

  // ---- the live counter -------------------------------------------------------------------

  function scheduleCount() {
    clearTimeout(state.timer);
    state.timer = setTimeout(count, 200);
  }

  async function count() {
    var text = $("message").value;
    var seq = ++state.textSeq;
    try {
      var info = await elksxl.api.post("/api/text", { text: text });
      if (seq !== state.textSeq) return; // a newer keystroke already asked
      info.text = text;
      state.text = info;
      elksxl.render.counter(info);
    } catch (error) {
      showError(error);
    }
  }

  function useSmartText() {
    if (!state.text || state.text.smart_text === undefined) return;
    $("message").value = state.text.smart_text;
    $("message").focus();
    count();
  }

  // ---- templates, account, token ----------------------------------------------------------

  async function loadTemplates() {
    var data = await elksxl.api.get("/api/templates");
    state.templates = data.templates || [];
    var select = $("template");
    while (select.options.length > 1) select.remove(1);
    state.templates.forEach(function (t, i) {
      var option = document.createElement("option");
      option.value = String(i);
      option.textContent = t.name;
      select.appendChild(option);
    });
  }

  function pickTemplate() {
    var chosen = state.templates[Number($("template").value)];
    if ($("template").value === "" || !chosen) return;
    $("message").value = chosen.text;
    count();
  }

  async function loadAccount() {
    try {
      var account = await elksxl.api.get("/api/account");
      $("account").textContent = account.name + " · " + elksxl.render.money(account.balance, account.currency);
    } catch (error) {
      if (error.status === 401) throw error;
      $("account").textContent = "Account: " + error.message;
    }
  }

  async function saveToken() {
    await elksxl.api.setToken($("token").value.trim());
    showStatus("");
    await start();
  }

  // ---- preview and send -------------------------------------------------------------------

  async function preview(checkOnly) {
    var message = $("message").value;
    if (!checkOnly && !message.trim()) {
      showStatus("Write a message first.");
      $("message").focus();
      return null;
    }
    var body = await previewBody(checkOnly && !message.trim() ? "-" : message);
    var data = await elksxl.api.post("/api/preview", body);
    state.preview = { body: body, data: data };
    showStatus("");
    elksxl.render.preview(data, selectCell, checkOnly);
    var send = $("send");
    send.textContent = data.send_label || "Send " + data.recipients + " messages";
    send.disabled = data.recipients === 0; // after a number check, Send previews the message
    $("send-hint").hidden = data.recipients > 0;
    $("send-hint").textContent = data.recipients > 0 ? "" : "No row of the selection can be sent to.";
    return state.preview;
  }

  function selectCell(address) {
    elksxl.excel.selectCell(address).catch(showError);
  }

  async function askToSend() {
    var fresh = await preview(false);
    if (!fresh || fresh.data.recipients === 0) return;
    var d = fresh.data;
    var n = elksxl.render.plural(d.recipients, "message", "messages");
    var text;
    if ($("dry-run").checked) {
      text = "Dry run: ask 46elks what " + n + " would cost? Nothing is sent.";
    } else if ($("test-number").checked) {
      text = "Send " + n + " to the 46elks test number " + TEST_NUMBER + " only (free)?";
    } else {
      text = "Send " + n + " now? Estimated cost " + elksxl.render.money(d.estimated_cost, d.currency) + ".";
    }
    $("confirm-text").textContent = text;
    $("confirm").hidden = false;
    $("send").hidden = true;
    $("confirm-yes").focus();
  }

  function closeConfirm() {
    $("confirm").hidden = true;
    $("send").hidden = false;
  }

  async function send() {
    closeConfirm();
    var body = Object.assign({}, state.preview.body, {
      dry_run: $("dry-run").checked,
      test_number_only: $("test-number").checked,
    });
    $("send").disabled = true;
    try {
      var answer = await elksxl.api.post("/api/send", body);
      if (answer.dry_run) return showDryRun(answer.dry_run);
      await elksxl.excel.applyActions(answer.actions || []);
      follow(answer.run, answer.cursor || "");
    } catch (error) {
      if (error.status !== 409 || !error.body.run) throw error;
      // This workbook's campaign is already running (another pane, another Excel): watch it.
      showStatus(error.message, "info");
      if (state.run !== error.body.run) follow(error.body.run, "");
    } finally {
      $("send").disabled = false;
    }
  }

  function showDryRun(dry) {
    var line =
      "Dry run: 46elks would take " +
      elksxl.render.plural(dry.messages, "message", "messages") +
      " (" +
      elksxl.render.plural(dry.parts, "part", "parts") +
      ") for " +
      elksxl.render.money(dry.cost, dry.currency) +
      ".";
    if (dry.rejected && dry.rejected.length) {
      line += " Rejected: " + dry.rejected.map(function (r) { return "row " + r.row + " (" + r.reason + ")"; }).join(", ");
    }
    $("dry-result").textContent = line;
    $("dry-result").hidden = false;
  }

  // ---- progress ---------------------------------------------------------------------------

  function follow(run, cursor) {
    state.run = run;
    state.cursor = cursor;
    state.ended = null;
    $("cancel").disabled = false;
    $("cancel").hidden = false;
    poll(run);
  }

  async function poll(run) {
    if (state.run !== run) return; // a newer run took over
    var data;
    try {
      data = await elksxl.api.get("/api/runs/" + encodeURIComponent(run) + "?since=" + encodeURIComponent(state.cursor));
      await elksxl.excel.applyActions(data.actions || []);
    } catch (error) {
      showError(error);
      if (error.status === 401 || error.status === 404) return;
      setTimeout(function () { poll(run); }, pollMs() * 3);
      return;
    }
    state.cursor = data.cursor || state.cursor;
    elksxl.render.progress(data);
    if (ACTIVE[data.state]) {
      setTimeout(function () { poll(run); }, pollMs());
      return;
    }
    if (!state.ended) {
      state.ended = Date.now();
      $("cancel").hidden = true;
      loadAccount().catch(showError); // the balance changed
    }
    // Sent is not delivered: keep asking, more slowly, while delivery reports are due.
    if (data.awaiting_reports > 0 && Date.now() - state.ended < REPORTS_FOR_MS) {
      setTimeout(function () { poll(run); }, pollMs() * 5);
    } else {
      state.run = null;
    }
  }

  async function cancel() {
    if (!state.run) return;
    $("cancel").disabled = true;
    var answer = await elksxl.api.post("/api/runs/" + encodeURIComponent(state.run) + "/cancel", {});
    $("progress-title").textContent = answer.state === "cancelling" ? "Cancelling" : "Cancelled";
  }

  /** On opening: the workbook's campaign, if it has a run, is followed from its start. */
  async function resume() {
    var campaign = await elksxl.excel.readCampaignId();
    if (!campaign) return;
    var data = await elksxl.api.get("/api/runs?campaign_id=" + encodeURIComponent(campaign));
    var latest = (data.runs || [])[0];
    if (latest) follow(latest.run, "");
  }

  // ---- wiring -----------------------------------------------------------------------------

  function guarded(fn) {
    return function () {
      var args = arguments;
      return Promise.resolve()
        .then(function () { return fn.apply(null, args); })
        .catch(showError);
    };
  }

  async function start() {
    var token = await elksxl.api.getToken();
    $("token").value = token;
    if (!token) {
      $("settings").open = true;
      showStatus("Enter the access token of your elksxl server under Settings to start.", "info");
      return;
    }
    await loadAccount();
    await loadTemplates();
    if ($("message").value) count();
    await resume();
  }

  function wire() {
    $("message").addEventListener("input", scheduleCount);
    $("smart").addEventListener("click", useSmartText);
    $("template").addEventListener("change", pickTemplate);
    $("save-token").addEventListener("click", guarded(saveToken));
    $("token").addEventListener("keydown", function (e) {
      if (e.key === "Enter") guarded(saveToken)();
    });
    $("preview-button").addEventListener("click", guarded(function () { return preview(false); }));
    $("send").addEventListener("click", guarded(askToSend));
    $("confirm-yes").addEventListener("click", guarded(send));
    $("confirm-no").addEventListener("click", function () {
      closeConfirm();
      $("send").focus();
    });
    $("cancel").addEventListener("click", guarded(cancel));
    $("send").disabled = false;
  }

  elksxl.pane = {
    checkNumbers: guarded(function () { return preview(true); }),
    ready: null, // resolves once the pane has started (tests wait for it)
  };

  function domReady() {
    if (document.readyState !== "loading") return Promise.resolve();
    return new Promise(function (resolve) {
      document.addEventListener("DOMContentLoaded", resolve, { once: true });
    });
  }

  // Office may be ready before the body is parsed (the scripts sit in <head>).
  elksxl.pane.ready = Promise.all([Office.onReady(), domReady()]).then(function () {
    if (window.elksxlCompatible === false) return; // compat.js has told the user why
    wire();
    return guarded(start)();
  });
})();
