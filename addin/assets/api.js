/*
 * elksxl add-in: the backend client. Owns the access token (kept in the add-in's storage)
 * and every call to /api on the pane's own origin. Plain script, no build step: it sets
 * window.elksxl.api.
 */
(function () {
  "use strict";
  var elksxl = (window.elksxl = window.elksxl || {});
  var TOKEN_KEY = "elksxl.token";

  /** An HTTP error from the backend: status, the server's sentence, the cell it concerns. */
  class ApiError extends Error {
    constructor(status, message, where, body) {
      super(message);
      this.name = "ApiError";
      this.status = status;
      this.where = where || null;
      this.body = body || {};
    }
  }

  function officeStorage() {
    // OfficeRuntime.storage exists in the shared runtime; it is shared with custom functions.
    return typeof OfficeRuntime !== "undefined" && OfficeRuntime.storage ? OfficeRuntime.storage : null;
  }

  async function getToken() {
    var storage = officeStorage();
    if (storage) {
      try {
        var stored = await storage.getItem(TOKEN_KEY);
        if (stored) return stored;
      } catch (e) {
        /* fall back to localStorage below */
      }
    }
    try {
      return window.localStorage.getItem(TOKEN_KEY) || "";
    } catch (e) {
      return "";
    }
  }

  async function setToken(token) {
    var storage = officeStorage();
    if (storage) {
      try {
        await storage.setItem(TOKEN_KEY, token);
      } catch (e) {
        /* localStorage below still keeps it */
      }
    }
    try {
      window.localStorage.setItem(TOKEN_KEY, token);
    } catch (e) {
      /* private mode: the token lives for this session only */
    }
  }

  /** Call the backend; resolves to the parsed JSON body, rejects with ApiError. */
  async function request(method, path, body) {
    var token = await getToken();
    var headers = { Accept: "application/json" };
    if (token) headers.Authorization = "Bearer " + token;
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var response;
    try {
      response = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, "The elksxl server cannot be reached. Is `elksxl serve` running?", null);
    }
    var data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      var message = (data && data.error) || "The server answered " + response.status + ".";
      throw new ApiError(response.status, message, data && data.where, data);
    }
    return data;
  }

  elksxl.api = {
    ApiError: ApiError,
    getToken: getToken,
    setToken: setToken,
    request: request,
    get: function (path) {
      return request("GET", path);
    },
    post: function (path, body) {
      return request("POST", path, body === undefined ? {} : body);
    },
  };
})();
