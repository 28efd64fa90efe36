/*
 * elksxl add-in: drawing the pane's dynamic parts (counter, preview, progress) from the
 * backend's answers. Every text that may come from a cell, a template or the server is set
 * with textContent: nothing here parses HTML. Sets window.elksxl.render.
 */
(function () {
  "use strict";
  var elksxl = (window.elksxl = window.elksxl || {});

  function $(id) {
    return document.getElementById(id);
  }

  /** A new element with text (never HTML) and an optional class. */
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function plural(n, one, many) {
    return n + " " + (n === 1 ? one : many);
  }

  function money(amount, currency) {
    if (amount === null || amount === undefined) return "unknown";
    return Number(amount).toFixed(2) + " " + (currency || "");
  }

  function encodingName(encoding) {
    return encoding === "ucs2" ? "UCS-2 (Unicode)" : "GSM-7";
  }

  function charList(container, chars) {
    chars.forEach(function (ch) {
      container.appendChild(el("code", ch));
    });
  }

  function counter(info) {
    var line =
      encodingName(info.encoding) +
      " · " +
      plural(info.length, "character", "characters") +
      " · " +
      plural(info.parts, "part", "parts");
    $("counter").textContent = info.length === 0 ? "" : line;
    var box = $("ucs2");
    var chars = info.ucs2_chars || [];
    if (info.encoding !== "ucs2" || chars.length === 0) {
      box.hidden = true;
      return;
    }
    var text = $("ucs2-text");
    clear(text);
    text.appendChild(document.createTextNode("Unicode because of "));
    charList(text, chars);
    text.appendChild(document.createTextNode(" "));
    var smart = $("smart");
    var canFix = info.smart_text !== undefined && info.smart_text !== null && info.smart_text !== info.text;
    smart.hidden = !canFix;
    smart.textContent =
      "Use GSM look-alikes (" + plural(info.smart_parts, "part", "parts") + " instead of " + info.parts + ")";
    box.hidden = false;
  }

  function summaryItem(list, strong, rest) {
    var li = el("li");
    li.appendChild(el("strong", strong));
    if (rest) li.appendChild(document.createTextNode(" " + rest));
    list.appendChild(li);
  }

  function summary(preview, checkOnly) {
    var list = $("summary");
    clear(list);
    summaryItem(list, plural(preview.recipients, "recipient", "recipients"), "in " + plural(preview.rows, "row", "rows"));
    if (preview.phone_column) summaryItem(list, "Phone column:", preview.phone_column);
    if (preview.hidden_left_out) {
      summaryItem(list, plural(preview.hidden_left_out, "hidden row", "hidden rows"), "left out");
    }
    var problems = (preview.problems || []).length;
    var duplicates = (preview.duplicates || []).length;
    if (problems) summaryItem(list, plural(problems, "problem", "problems"), "(not sent)");
    if (duplicates) summaryItem(list, plural(duplicates, "duplicate", "duplicates"), "(not sent)");
    if (preview.already_sent) summaryItem(list, plural(preview.already_sent, "row", "rows"), "already sent (skipped)");
    if (checkOnly) return;
    summaryItem(list, plural(preview.parts, "SMS part", "SMS parts"), "in all");
    summaryItem(list, "Estimated cost:", money(preview.estimated_cost, preview.currency));
    if (preview.balance_check) {
      // The server's sentence already names the balance: show it as it is.
      list.appendChild(el("li", preview.balance_check.charAt(0).toUpperCase() + preview.balance_check.slice(1), "muted"));
    }
  }

  function messages(preview, checkOnly) {
    var list = $("messages");
    clear(list);
    $("messages-title").hidden = checkOnly || !(preview.messages || []).length;
    if (checkOnly) return;
    (preview.messages || []).forEach(function (m) {
      var li = el("li");
      var meta = "Row " + m.row + " · " + m.to + " · " + plural(m.parts, "part", "parts");
      if (m.encoding === "ucs2") meta += " · Unicode";
      li.appendChild(el("span", meta, "to"));
      li.appendChild(el("span", m.text, "text"));
      list.appendChild(li);
    });
  }

  function cellList(boxId, listId, items, describe, onSelect) {
    var list = $(listId);
    clear(list);
    $(boxId).hidden = items.length === 0;
    items.forEach(function (item) {
      var li = el("li");
      var button = el("button");
      button.type = "button";
      button.appendChild(el("span", item.cell, "cell"));
      button.appendChild(document.createTextNode(describe(item)));
      button.title = "Select " + item.cell + " in the sheet";
      button.addEventListener("click", function () {
        onSelect(item.cell);
      });
      li.appendChild(button);
      list.appendChild(li);
    });
  }

  function preview(data, onSelect, checkOnly) {
    $("preview-card").hidden = false;
    $("preview-title").textContent = checkOnly ? "Number check" : "Preview";
    summary(data, checkOnly);
    var notices = $("notices");
    clear(notices);
    (data.notices || []).forEach(function (n) {
      notices.appendChild(el("li", n));
    });
    messages(data, checkOnly);
    cellList("problems-box", "problems", data.problems || [], function (p) {
      return p.reason;
    }, onSelect);
    cellList("duplicates-box", "duplicates", data.duplicates || [], function (d) {
      return "the same number as row " + d.first_row;
    }, onSelect);
  }

  function progress(run) {
    var p = run.progress || {};
    var total = p.total || 0;
    var done = p.done || 0;
    var bar = $("progress");
    bar.setAttribute("aria-valuemax", String(total));
    bar.setAttribute("aria-valuenow", String(done));
    bar.setAttribute("aria-valuetext", done + " of " + total + " messages done");
    $("progress-fill").style.width = total ? Math.round((100 * done) / total) + "%" : "0";
    var text = done + " of " + total + " done · " + (p.sent || 0) + " sent · " + (p.failed || 0) + " failed";
    if (p.unknown) text += " · " + p.unknown + " unknown";
    if (p.cost !== undefined && p.cost !== null) text += " · " + money(p.cost, p.currency);
    var d = run.delivery;
    if (d && (d.delivered || d.undelivered || d.awaiting)) {
      text += " · delivered " + (d.delivered || 0) + " · not delivered " + (d.undelivered || 0);
      if (d.awaiting) text += " · " + d.awaiting + " awaiting a report";
    }
    $("progress-text").textContent = text;
    var titles = {
      running: "Sending",
      cancelling: "Cancelling",
      complete: "Sent",
      partial: "Partly sent",
      cancelled: "Cancelled",
      stopped: "Stopped",
    };
    $("progress-title").textContent = titles[run.state] || "Sending";
    var message = run.message || "";
    $("progress-message").textContent = message.charAt(0).toUpperCase() + message.slice(1);
    $("progress-card").hidden = false;
  }

  elksxl.render = {
    el: el,
    clear: clear,
    plural: plural,
    money: money,
    counter: counter,
    preview: preview,
    progress: progress,
  };
})();
