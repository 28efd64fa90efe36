/*
 * A fake office.js for the browser tests: Office.onReady, Office.actions.associate,
 * Office.addin.showAsTaskpane, and Excel.run over an in-memory workbook.
 *
 * The workbook is plain JSON, seeded by the test as window.__ELKSXL_WORKBOOK__ before the page
 * loads and exposed as window.__wb:
 *   { name, selection: {sheet, row, col, rows, cols} (0-based), properties: {key: value},
 *     sheets: [{ name, values: [[...]] (row 0 = Excel row 1), hidden: [0-based rows],
 *                formats: {"r,c": "@"}, formulas: {"r,c": "=..."},
 *                tables: [{name, row, col, rows, cols}] (rows include the header) }] }
 *
 * Like the real API, objects are proxies: a property can be read only after load() and
 * context.sync() (otherwise PropertyNotLoaded is thrown), and writes happen at sync, in
 * order. Only ExcelApi <= 1.7 members exist, so a pane using a newer call fails here.
 * A string written to a cell whose format is not "@" and that starts with "=" becomes a
 * formula, as in Excel: the tests check that results never do.
 */
(function () {
  "use strict";
  var wb = (window.__wb = window.__ELKSXL_WORKBOOK__ || { name: "Book1.xlsx", sheets: [], properties: {} });
  wb.properties = wb.properties || {};
  wb.sheets.forEach(function (s) {
    s.values = s.values || [];
    s.hidden = s.hidden || [];
    s.formats = s.formats || {};
    s.formulas = s.formulas || {};
    s.tables = s.tables || [];
  });
  wb.selection = wb.selection || { sheet: 0, row: 0, col: 0, rows: 1, cols: 1 };
  var calls = (window.__officeCalls = []);

  function letters(index) {
    var out = "";
    var n = index + 1;
    while (n > 0) {
      var rest = (n - 1) % 26;
      out = String.fromCharCode(65 + rest) + out;
      n = Math.floor((n - 1) / 26);
    }
    return out;
  }

  function parseCell(ref) {
    var m = /^\$?([A-Z]+)\$?(\d+)$/.exec(ref.toUpperCase());
    if (!m) throw new Error("InvalidArgument: bad cell reference " + ref);
    var col = 0;
    for (var i = 0; i < m[1].length; i++) col = col * 26 + (m[1].charCodeAt(i) - 64);
    return { row: Number(m[2]) - 1, col: col - 1 };
  }

  function cellValue(sheet, r, c) {
    var row = sheet.values[r];
    var v = row ? row[c] : undefined;
    return v === undefined || v === null ? "" : v;
  }

  function writeCell(sheet, r, c, v) {
    while (sheet.values.length <= r) sheet.values.push([]);
    var row = sheet.values[r];
    while (row.length <= c) row.push("");
    var key = r + "," + c;
    if (typeof v === "string" && v.charAt(0) === "=" && sheet.formats[key] !== "@") {
      sheet.formulas[key] = v;
    } else {
      delete sheet.formulas[key];
    }
    row[c] = v;
  }

  // ---- the proxy machinery ----------------------------------------------------------------

  function RequestContext() {
    this.queue = [];
    this.workbook = makeWorkbook(this);
  }
  RequestContext.prototype.sync = function () {
    var queue = this.queue;
    this.queue = [];
    return new Promise(function (resolve, reject) {
      setTimeout(function () {
        try {
          queue.forEach(function (op) {
            op();
          });
          resolve();
        } catch (e) {
          reject(e);
        }
      }, 0);
    });
  };

  /** A proxy object: `fields` compute each loadable property from the workbook at sync. */
  function proxy(context, kind, fields, extra) {
    var obj = extra || {};
    var loaded = {};
    Object.keys(fields).forEach(function (name) {
      Object.defineProperty(obj, name, {
        enumerable: true,
        configurable: true,
        get: function () {
          if (!(name in loaded)) {
            throw new Error("PropertyNotLoaded: " + kind + "." + name + " was not loaded and synced");
          }
          return loaded[name];
        },
        set: function (value) {
          if (!fields[name].set) throw new Error("InvalidOperation: " + kind + "." + name + " is read-only");
          context.queue.push(function () {
            fields[name].set(value);
          });
        },
      });
    });
    obj.load = function (spec) {
      calls.push(kind + ".load");
      var names = spec ? String(spec).split(",").map(function (s) { return s.trim(); }) : Object.keys(fields);
      var itemProps = names.filter(function (n) { return n.indexOf("items/") === 0; });
      var own = names.filter(function (n) { return n.indexOf("items/") !== 0; });
      context.queue.push(function () {
        own.forEach(function (name) {
          if (!fields[name]) throw new Error("InvalidArgument: " + kind + " has no property " + name);
          loaded[name] = fields[name].get();
        });
        if (itemProps.length) {
          obj.__loadItems(itemProps.map(function (n) { return n.slice(6); }).join(","));
        }
      });
      return obj;
    };
    obj.toJSON = function () {
      return loaded;
    };
    return obj;
  }

  function ro(get) {
    return { get: get };
  }

  // ---- ranges -----------------------------------------------------------------------------

  function makeRange(context, spec) {
    // spec() -> {sheet: index, row, col, rows, cols}, resolved at sync time.
    function s() {
      return spec();
    }
    function sheetOf() {
      return wb.sheets[s().sheet];
    }
    function each(fn) {
      var r = s();
      var out = [];
      for (var i = 0; i < r.rows; i++) {
        var line = [];
        for (var j = 0; j < r.cols; j++) line.push(fn(r.row + i, r.col + j, i, j));
        out.push(line);
      }
      return out;
    }
    function grid(value, i, j) {
      return Array.isArray(value) ? value[i][j] : value;
    }
    var range = proxy(context, "Range", {
      address: ro(function () {
        var r = s();
        var a = letters(r.col) + (r.row + 1);
        var b = letters(r.col + r.cols - 1) + (r.row + r.rows);
        return sheetOf().name + "!" + (a === b ? a : a + ":" + b);
      }),
      rowIndex: ro(function () { return s().row; }),
      columnIndex: ro(function () { return s().col; }),
      rowCount: ro(function () { return s().rows; }),
      columnCount: ro(function () { return s().cols; }),
      values: {
        get: function () {
          var sheet = sheetOf();
          return each(function (r, c) { return cellValue(sheet, r, c); });
        },
        set: function (value) {
          var sheet = sheetOf();
          each(function (r, c, i, j) { writeCell(sheet, r, c, grid(value, i, j)); });
        },
      },
      numberFormat: {
        get: function () {
          var sheet = sheetOf();
          return each(function (r, c) { return sheet.formats[r + "," + c] || "General"; });
        },
        set: function (value) {
          var sheet = sheetOf();
          each(function (r, c, i, j) { sheet.formats[r + "," + c] = grid(value, i, j); });
        },
      },
      rowHidden: ro(function () {
        var r = s();
        var hidden = sheetOf().hidden;
        var count = 0;
        for (var i = 0; i < r.rows; i++) if (hidden.indexOf(r.row + i) >= 0) count++;
        return count === 0 ? false : count === r.rows ? true : null;
      }),
    });
    range.worksheet = makeSheet(context, function () { return s().sheet; });
    range.select = function () {
      calls.push("Range.select");
      context.queue.push(function () {
        var r = s();
        wb.selection = { sheet: r.sheet, row: r.row, col: r.col, rows: r.rows, cols: r.cols };
      });
    };
    range.getRow = function (i) {
      return makeRange(context, function () {
        var r = s();
        return { sheet: r.sheet, row: r.row + i, col: r.col, rows: 1, cols: r.cols };
      });
    };
    range.getCell = function (i, j) {
      return makeRange(context, function () {
        var r = s();
        return { sheet: r.sheet, row: r.row + i, col: r.col + j, rows: 1, cols: 1 };
      });
    };
    return range;
  }

  // ---- sheets, tables, workbook -----------------------------------------------------------

  function makeTable(context, sheetIndex, tableIndex) {
    function t() {
      return wb.sheets[sheetIndex()].tables[tableIndex];
    }
    var table = proxy(context, "Table", { name: ro(function () { return t().name; }) });
    table.getRange = function () {
      return makeRange(context, function () {
        var x = t();
        return { sheet: sheetIndex(), row: x.row, col: x.col, rows: x.rows, cols: x.cols };
      });
    };
    table.getHeaderRowRange = function () {
      return makeRange(context, function () {
        var x = t();
        return { sheet: sheetIndex(), row: x.row, col: x.col, rows: 1, cols: x.cols };
      });
    };
    table.getDataBodyRange = function () {
      return makeRange(context, function () {
        var x = t();
        return { sheet: sheetIndex(), row: x.row + 1, col: x.col, rows: x.rows - 1, cols: x.cols };
      });
    };
    return table;
  }

  function collection(context, kind, list, makeItem) {
    var coll = proxy(context, kind, { count: ro(function () { return list().length; }) });
    coll.__loadItems = function (props) {
      coll.items = list().map(function (_, i) {
        return makeItem(i);
      });
      // Items must be loaded too: queue-free, as the real API fills them in the same sync.
      coll.items.forEach(function (item) {
        item.load(props);
      });
      var pending = context.queue;
      context.queue = [];
      pending.forEach(function (op) { op(); });
    };
    return coll;
  }

  function makeSheet(context, index) {
    function sh() {
      var i = index();
      if (!wb.sheets[i]) throw new Error("ItemNotFound: no such worksheet");
      return wb.sheets[i];
    }
    var sheet = proxy(context, "Worksheet", {
      name: ro(function () { return sh().name; }),
      position: ro(function () { return index(); }),
    });
    sheet.getRange = function (address) {
      return makeRange(context, function () {
        var parts = address.split(":");
        var a = parseCell(parts[0]);
        var b = parseCell(parts[1] || parts[0]);
        return { sheet: index(), row: a.row, col: a.col, rows: b.row - a.row + 1, cols: b.col - a.col + 1 };
      });
    };
    sheet.getRangeByIndexes = function (row, col, rows, cols) {
      calls.push("Worksheet.getRangeByIndexes");
      return makeRange(context, function () {
        return { sheet: index(), row: row, col: col, rows: rows, cols: cols };
      });
    };
    sheet.getUsedRange = function () {
      calls.push("Worksheet.getUsedRange");
      return makeRange(context, function () {
        var values = sh().values;
        var top = -1, bottom = -1, left = Infinity, right = -1;
        values.forEach(function (row, r) {
          (row || []).forEach(function (v, c) {
            if (v === "" || v === null || v === undefined) return;
            if (top < 0) top = r;
            bottom = r;
            left = Math.min(left, c);
            right = Math.max(right, c);
          });
        });
        if (top < 0) return { sheet: index(), row: 0, col: 0, rows: 1, cols: 1 };
        return { sheet: index(), row: top, col: left, rows: bottom - top + 1, cols: right - left + 1 };
      });
    };
    sheet.activate = function () {
      context.queue.push(function () {
        wb.selection.sheet = index();
      });
    };
    sheet.tables = collection(context, "TableCollection", function () { return sh().tables; }, function (i) {
      return makeTable(context, index, i);
    });
    return sheet;
  }

  function sheetIndexByName(name) {
    for (var i = 0; i < wb.sheets.length; i++) if (wb.sheets[i].name === name) return i;
    return -1;
  }

  function makeCustomProperty(context, key) {
    var prop = proxy(context, "CustomProperty", {
      value: ro(function () { return wb.properties[key]; }),
      key: ro(function () { return key; }),
    });
    Object.defineProperty(prop, "isNullObject", {
      get: function () { return !(key in wb.properties); },
    });
    return prop;
  }

  function makeWorkbook(context) {
    var workbook = proxy(context, "Workbook", { name: ro(function () { return wb.name; }) });
    workbook.getSelectedRange = function () {
      calls.push("Workbook.getSelectedRange");
      return makeRange(context, function () { return wb.selection; });
    };
    var sheets = collection(context, "WorksheetCollection", function () { return wb.sheets; }, function (i) {
      return makeSheet(context, function () { return i; });
    });
    sheets.getItem = function (name) {
      return makeSheet(context, function () {
        var i = sheetIndexByName(name);
        if (i < 0) throw new Error("ItemNotFound: no worksheet " + name);
        return i;
      });
    };
    sheets.getItemOrNullObject = function (name) {
      var sheet = makeSheet(context, function () { return sheetIndexByName(name); });
      Object.defineProperty(sheet, "isNullObject", { get: function () { return sheetIndexByName(name) < 0; } });
      return sheet;
    };
    sheets.getActiveWorksheet = function () {
      return makeSheet(context, function () { return wb.selection.sheet; });
    };
    workbook.worksheets = sheets;
    workbook.properties = {
      custom: {
        getItemOrNullObject: function (key) {
          calls.push("CustomPropertyCollection.getItemOrNullObject");
          return makeCustomProperty(context, key);
        },
        add: function (key, value) {
          calls.push("CustomPropertyCollection.add");
          context.queue.push(function () {
            wb.properties[key] = value;
          });
        },
      },
    };
    return workbook;
  }

  // ---- the Office and Excel globals -------------------------------------------------------

  var actions = (window.__officeActions = {});
  window.Office = {
    onReady: function (callback) {
      var info = { host: "Excel", platform: "PC" };
      return new Promise(function (resolve) {
        setTimeout(function () {
          if (callback) callback(info);
          resolve(info);
        }, 0);
      });
    },
    actions: {
      associate: function (id, fn) {
        actions[id] = fn;
      },
    },
    addin: {
      showAsTaskpane: function () {
        return Promise.resolve();
      },
    },
  };
  window.Excel = {
    run: function (batch) {
      var context = new RequestContext();
      return Promise.resolve(batch(context)).then(function (result) {
        return context.sync().then(function () {
          return result;
        });
      });
    },
  };
})();
