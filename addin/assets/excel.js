/*
 * elksxl add-in: everything that touches the workbook through the Excel JavaScript API.
 * Builds the selection payload of ADDIN_API.md, applies the backend's actions (setValues,
 * setCustomProperty) and selects a cell. Only ExcelApi <= 1.7 calls are used:
 *   1.1 getSelectedRange, getUsedRange, tables, getHeaderRowRange, getDataBodyRange, values,
 *       numberFormat, select, worksheets.getItem, position;
 *   1.2 rowHidden;  1.4 getItemOrNullObject;  1.7 getRangeByIndexes, workbook.name,
 *       workbook.properties.custom.
 * Sets window.elksxl.excel.
 */
(function () {
  "use strict";
  var elksxl = (window.elksxl = window.elksxl || {});
  var CAMPAIGN_PROPERTY = "elksxl campaign";
  var RANGE_FIELDS = "address,rowIndex,columnIndex,rowCount,columnCount";

  function columnLetters(index) {
    // 0-based column index -> "A", "Z", "AA" ...
    var letters = "";
    var n = index + 1;
    while (n > 0) {
      var rest = (n - 1) % 26;
      letters = String.fromCharCode(65 + rest) + letters;
      n = Math.floor((n - 1) / 26);
    }
    return letters;
  }

  function quoteSheet(name) {
    return /^[A-Za-z0-9_]+$/.test(name) ? name : "'" + name.replace(/'/g, "''") + "'";
  }

  function looksLikePhone(value) {
    if (typeof value === "number") return value >= 100000;
    return /^\s*\+?[\d\s().\-\/]{6,}\s*$/.test(String(value));
  }

  /** A header row has at least one text cell that is not a phone number. */
  function isHeaderRow(values) {
    var filled = values.filter(function (v) {
      return v !== "" && v !== null;
    });
    return filled.length > 0 && !filled.every(looksLikePhone);
  }

  async function findTable(context, sheet, selection) {
    var tables = sheet.tables;
    tables.load("items/name");
    await context.sync();
    var candidates = tables.items.map(function (table) {
      var header = table.getHeaderRowRange();
      var body = table.getDataBodyRange();
      header.load(RANGE_FIELDS);
      body.load(RANGE_FIELDS);
      return { table: table, header: header, body: body };
    });
    await context.sync();
    return (
      candidates.find(function (c) {
        var top = c.header.rowIndex;
        var bottom = c.body.rowIndex + c.body.rowCount - 1;
        var left = c.header.columnIndex;
        var right = left + c.header.columnCount - 1;
        return (
          selection.rowIndex >= top &&
          selection.rowIndex + selection.rowCount - 1 <= bottom &&
          selection.columnIndex >= left &&
          selection.columnIndex + selection.columnCount - 1 <= right
        );
      }) || null
    );
  }

  /**
   * Where the campaign's rows are: { headerRow (0-based or null), firstRow, rowCount,
   * firstColumn, columnCount } in sheet coordinates.
   */
  async function locateBlock(context, sheet, selection) {
    var found = await findTable(context, sheet, selection);
    if (found) {
      var single = selection.rowCount === 1 && selection.columnCount === 1;
      var bodyTop = found.body.rowIndex;
      var bodyBottom = bodyTop + found.body.rowCount - 1;
      var first = single ? bodyTop : Math.max(selection.rowIndex, bodyTop);
      var last = single ? bodyBottom : selection.rowIndex + selection.rowCount - 1;
      return {
        headerRow: found.header.rowIndex,
        firstRow: first,
        rowCount: Math.max(0, last - first + 1),
        firstColumn: found.header.columnIndex,
        columnCount: found.header.columnCount,
      };
    }
    var used = sheet.getUsedRange(true);
    used.load(RANGE_FIELDS);
    await context.sync();
    var headerCells = sheet.getRangeByIndexes(used.rowIndex, used.columnIndex, 1, used.columnCount);
    headerCells.load("values");
    await context.sync();
    if (!isHeaderRow(headerCells.values[0])) {
      return {
        headerRow: null,
        firstRow: selection.rowIndex,
        rowCount: selection.rowCount,
        firstColumn: selection.columnIndex,
        columnCount: selection.columnCount,
      };
    }
    var top = Math.max(selection.rowIndex, used.rowIndex + 1);
    var bottom = selection.rowIndex + selection.rowCount - 1;
    return {
      headerRow: used.rowIndex,
      firstRow: top,
      rowCount: Math.max(0, bottom - top + 1),
      firstColumn: used.columnIndex,
      columnCount: used.columnCount,
    };
  }

  async function hiddenRows(context, sheet, block) {
    if (block.rowCount === 0) return [];
    var whole = sheet.getRangeByIndexes(block.firstRow, block.firstColumn, block.rowCount, 1);
    whole.load("rowHidden");
    await context.sync();
    // rowHidden is false when no row is hidden, true when all are, null when mixed.
    if (whole.rowHidden === false) return [];
    var rows = [];
    for (var i = 0; i < block.rowCount; i++) {
      var row = sheet.getRangeByIndexes(block.firstRow + i, block.firstColumn, 1, 1);
      row.load("rowHidden");
      rows.push(row);
    }
    await context.sync();
    var hidden = [];
    rows.forEach(function (row, i) {
      if (row.rowHidden) hidden.push(block.firstRow + i + 1);
    });
    return hidden;
  }

  async function readCampaignIdIn(context) {
    var item = context.workbook.properties.custom.getItemOrNullObject(CAMPAIGN_PROPERTY);
    item.load("value");
    await context.sync();
    return item.isNullObject ? null : String(item.value);
  }

  /** The selection payload of ADDIN_API.md for the current selection. */
  function readSelection() {
    return Excel.run(async function (context) {
      var workbook = context.workbook;
      workbook.load("name");
      var selection = workbook.getSelectedRange();
      selection.load(RANGE_FIELDS);
      var sheet = selection.worksheet;
      sheet.load("name,position");
      await context.sync();
      var campaignId = await readCampaignIdIn(context);
      var block = await locateBlock(context, sheet, selection);
      var values = [];
      var rowNumbers = [];
      if (block.headerRow !== null) {
        var header = sheet.getRangeByIndexes(block.headerRow, block.firstColumn, 1, block.columnCount);
        header.load("values");
        await context.sync();
        values.push(header.values[0]);
        rowNumbers.push(block.headerRow + 1);
      }
      if (block.rowCount > 0) {
        var body = sheet.getRangeByIndexes(block.firstRow, block.firstColumn, block.rowCount, block.columnCount);
        body.load("values");
        await context.sync();
        body.values.forEach(function (row, i) {
          values.push(row);
          rowNumbers.push(block.firstRow + i + 1);
        });
      }
      var hidden = await hiddenRows(context, sheet, block);
      var firstRow = rowNumbers.length ? rowNumbers[0] : block.firstRow + 1;
      var lastRow = rowNumbers.length ? rowNumbers[rowNumbers.length - 1] : firstRow;
      var lastColumn = columnLetters(block.firstColumn + block.columnCount - 1);
      return {
        client: "elksxl-addin",
        version: "1",
        book: { name: workbook.name, campaign_id: campaignId },
        sheet: { name: sheet.name, position: sheet.position },
        selection: {
          address:
            quoteSheet(sheet.name) + "!" + columnLetters(block.firstColumn) + firstRow + ":" + lastColumn + lastRow,
          first_row: firstRow,
          first_column: block.firstColumn + 1,
          values: values,
          row_numbers: rowNumbers,
          hidden_rows: hidden,
        },
        header: block.headerRow !== null,
        utc_offset_minutes: -new Date().getTimezoneOffset(),
      };
    });
  }

  function readCampaignId() {
    return Excel.run(readCampaignIdIn);
  }

  async function sheetFor(context, action) {
    var byName = context.workbook.worksheets.getItemOrNullObject(action.sheet || "");
    await context.sync();
    if (!byName.isNullObject) return byName;
    var sheets = context.workbook.worksheets;
    sheets.load("items/name,items/position");
    await context.sync();
    var match = sheets.items.find(function (s) {
      return s.position === action.sheet_position;
    });
    if (!match) throw new Error("The sheet " + action.sheet + " is gone: results cannot be written.");
    return match;
  }

  async function setValues(context, action) {
    var sheet = await sheetFor(context, action);
    var range = sheet.getRangeByIndexes(
      action.start_row,
      action.start_column,
      action.row_count,
      action.column_count,
    );
    // Text cells get the Text format first, so a value like "=1+1" from outside stays text.
    range.numberFormat =
      action.number_format ||
      action.values.map(function (row) {
        return row.map(function (v) {
          return typeof v === "string" ? "@" : "General";
        });
      });
    range.values = action.values;
  }

  function setCustomProperty(context, action) {
    context.workbook.properties.custom.add(action.name, action.value);
  }

  var HANDLERS = { setValues: setValues, setCustomProperty: setCustomProperty };

  /** Apply the backend's actions in order; unknown actions are refused, not guessed. */
  function applyActions(actions) {
    if (!actions || actions.length === 0) return Promise.resolve(0);
    return Excel.run(async function (context) {
      for (var i = 0; i < actions.length; i++) {
        var handler = HANDLERS[actions[i].func];
        if (!handler) throw new Error("Unknown action from the server: " + actions[i].func);
        await handler(context, actions[i]);
      }
      await context.sync();
      return actions.length;
    });
  }

  /** Select a cell given as "Sheet!B7" (the sheet name may be quoted). */
  function selectCell(address) {
    var bang = address.lastIndexOf("!");
    var sheetName = bang >= 0 ? address.slice(0, bang).replace(/^'|'$/g, "").replace(/''/g, "'") : null;
    var cell = bang >= 0 ? address.slice(bang + 1) : address;
    return Excel.run(async function (context) {
      var sheet = sheetName
        ? context.workbook.worksheets.getItem(sheetName)
        : context.workbook.worksheets.getActiveWorksheet();
      sheet.activate();
      sheet.getRange(cell).select();
      await context.sync();
    });
  }

  elksxl.excel = {
    CAMPAIGN_PROPERTY: CAMPAIGN_PROPERTY,
    readSelection: readSelection,
    readCampaignId: readCampaignId,
    applyActions: applyActions,
    selectCell: selectCell,
    columnLetters: columnLetters,
  };
})();
