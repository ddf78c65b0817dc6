// The process owners' decision table editor (/modeler/brouillons/<name>/dmn?fichier=processes/x.dmn):
// dmn-js (decision tables, literal expressions and the requirements diagram), saved like the BPMN
// editor's files: a JSON POST naming the draft revision the page started from (409: conflict).
// Keyboard: the decision table is a grid of editable cells (Tab, arrows); dmn-js's context menu
// (right click) adds and removes rules and columns.
import DmnModeler from "dmn-js/lib/Modeler";

import { announcer, draftSaver, onClick, openFile, pageData } from "./draft_common.js";

function setup(root) {
  const data = pageData();
  const announce = announcer(root);
  const modeler = new DmnModeler({ container: root.querySelector(".dmn-canvas") });

  async function openFirstTable() {
    const view = modeler.getViews().find((v) => v.type === "decisionTable");
    if (view) await modeler.open(view);
  }

  onClick(root.querySelector(".modeler-save"), draftSaver(data, modeler, announce), announce, data.labels.failed);
  openFile(root, modeler, data, announce, openFirstTable);
  window.dsdtDmnModeler = modeler;
}

const root = document.getElementById("dmn-editor");
if (root) setup(root);
