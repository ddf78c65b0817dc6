// The process owners' decision table editor (/modeler/brouillons/<name>/dmn?fichier=processes/x.dmn):
// dmn-js (decision tables, literal expressions and the requirements diagram), saved like the BPMN
// editor's files: a JSON POST naming the draft revision the page started from (409: conflict).
// Keyboard: the decision table is a grid of editable cells (Tab, arrows); dmn-js's context menu
// (right click) adds and removes rules and columns.
import DmnModeler from "dmn-js/lib/Modeler";

async function postJSON(url, csrf, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  let data = {};
  try { data = await response.json(); } catch (err) { data = {}; }
  return { status: response.status, data };
}

function setup(root) {
  const data = JSON.parse(document.getElementById("modeler-data").textContent);
  const labels = data.labels;
  const status = root.querySelector(".modeler-status");
  const announce = (message) => { status.textContent = message; };
  let revision = data.revision;
  const modeler = new DmnModeler({ container: root.querySelector(".dmn-canvas") });

  async function openFirstTable() {
    const view = modeler.getViews().find((v) => v.type === "decisionTable");
    if (view) await modeler.open(view);
  }

  async function save() {
    announce(labels.saving);
    const { xml } = await modeler.saveXML({ format: true });
    const { status: code, data: body } = await postJSON(data.saveUrl, data.csrf, { path: data.path, content: xml, revision });
    if (code === 200) {
      revision = body.revision;
      for (const out of document.querySelectorAll(".draft-revision")) out.textContent = body.summary;
      announce(body.message);
    } else {
      announce(body.error || labels.failed);
    }
  }
  root.querySelector(".modeler-save").addEventListener("click", () => { save().catch((err) => { announce(labels.failed); console.error(err); }); });
  modeler.importXML(data.xml).then(openFirstTable).then(() => {
    root.classList.add("modeler-ready");
    announce(labels.loaded);
  }).catch((err) => { announce(`${labels.failed} ${err.message}`); console.error(err); });
  window.dsdtDmnModeler = modeler;
}

const root = document.getElementById("dmn-editor");
if (root) setup(root);
