/*
 * elksxl add-in: our own custom-functions runtime. =ELKS.E164, VALID, PARTS and ENCODING are
 * computed by the backend's Python core; the calls Excel makes in one recalculation are
 * gathered for a moment and sent as one POST /api/functions. The ids are those of
 * functions.json (a test checks they match). Sets window.elksxl.functions.
 */
(function () {
  "use strict";
  var elksxl = (window.elksxl = window.elksxl || {});
  var NAMES = ["E164", "VALID", "PARTS", "ENCODING"];
  var BATCH_WAIT_MS = 25;
  var BATCH_MAX = 500;
  var queue = [];
  var timer = null;

  function fail(message) {
    if (typeof CustomFunctions !== "undefined" && CustomFunctions.Error) {
      return new CustomFunctions.Error(CustomFunctions.ErrorCode.invalidValue, message);
    }
    return new Error(message);
  }

  async function post(calls) {
    var token = "";
    if (elksxl.api) {
      token = await elksxl.api.getToken();
    } else {
      try {
        token = window.localStorage.getItem("elksxl.token") || "";
      } catch (e) {
        token = "";
      }
    }
    var response = await fetch("/api/functions", {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + token },
      body: JSON.stringify({ calls: calls }),
    });
    var data = await response.json().catch(function () {
      return {};
    });
    if (!response.ok) {
      var reason = response.status === 401 ? "set the access token in the SMS pane" : data.error || "server error";
      throw fail(reason);
    }
    return data.results || [];
  }

  async function flush() {
    timer = null;
    var batch = queue.splice(0, BATCH_MAX);
    if (queue.length) timer = setTimeout(flush, 0);
    try {
      var results = await post(
        batch.map(function (item) {
          return { name: item.name, args: item.args };
        }),
      );
      batch.forEach(function (item, i) {
        var result = results[i];
        if (result && typeof result === "object" && "error" in result) item.reject(fail(result.error));
        else item.resolve(result === undefined ? null : result);
      });
    } catch (error) {
      var failure = error instanceof Error ? error : fail(String(error));
      batch.forEach(function (item) {
        item.reject(failure);
      });
    }
  }

  /** One function call, answered when its batch comes back. */
  function call(name, args) {
    // Omitted optional arguments arrive as undefined or null at the end: leave them out.
    var present = args.slice();
    while (present.length && (present[present.length - 1] === undefined || present[present.length - 1] === null)) {
      present.pop();
    }
    return new Promise(function (resolve, reject) {
      queue.push({ name: name, args: present, resolve: resolve, reject: reject });
      if (!timer) timer = setTimeout(flush, BATCH_WAIT_MS);
    });
  }

  function define(name) {
    return function () {
      return call(name, Array.prototype.slice.call(arguments));
    };
  }

  var functions = {};
  NAMES.forEach(function (name) {
    functions[name] = define(name);
  });

  if (typeof CustomFunctions !== "undefined" && CustomFunctions.associate) {
    NAMES.forEach(function (name) {
      CustomFunctions.associate(name, functions[name]);
    });
  }

  elksxl.functions = { call: call, E164: functions.E164, VALID: functions.VALID, PARTS: functions.PARTS, ENCODING: functions.ENCODING };
})();
