/*
 * elksxl add-in: the ribbon's ExecuteFunction commands. The ids given to
 * Office.actions.associate are the manifest's <FunctionName>s (a test checks they match).
 * In the shared runtime this runs in the task pane's page, so a command can drive the pane.
 */
(function () {
  "use strict";

  /** "Check numbers": open the pane and list the selection's number problems there. */
  function checkNumbers(event) {
    var done = function () {
      if (event && typeof event.completed === "function") event.completed();
    };
    var shown =
      typeof Office !== "undefined" && Office.addin && typeof Office.addin.showAsTaskpane === "function"
        ? Office.addin.showAsTaskpane()
        : Promise.resolve();
    Promise.resolve(shown)
      .then(function () {
        var pane = window.elksxl && window.elksxl.pane;
        return pane ? pane.checkNumbers() : null;
      })
      .then(done, done);
  }

  Office.onReady(function () {
    Office.actions.associate("checkNumbers", checkNumbers);
  });
})();
