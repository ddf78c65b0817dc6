// The process owners' BPMN editor (/modeler/brouillons/<name>?fichier=processes/x.bpmn).
//
// bpmn-js Modeler with the properties panel (bpmn-js-properties-panel's BPMN groups plus our
// spiffworkflow: groups, spiff_provider.js), bpmnlint's recommended rules in the browser
// (bpmn-js-bpmnlint), "Enregistrer" (a JSON POST naming the draft revision the page started
// from: a 409 says who saved meanwhile) and, after each save or on "Vérifier", the server's
// checks (the ones deploy runs) as markers and overlays on the elements and an accessible list.
// Keyboard: bpmn-js binds its shortcuts while the canvas has focus (click it or Tab to it): Ctrl+Z / Ctrl+Y
// undo and redo, Ctrl+A select all, Delete removes, arrows move the canvas (Shift: faster),
// Ctrl+ +/- zoom, E direct editing, H hand tool, L lasso, C connect... The properties panel is
// ordinary form fields; the problems list's buttons select the element they name.
import BpmnModeler from "bpmn-js/lib/Modeler";
import lintModule from "bpmn-js-bpmnlint";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";

import lintConfig from "./lint_config.js";
import spiffworkflow from "./spiffworkflow.json";
import { spiffProviderModule } from "./spiff_provider.js";
import { announcer, draftSaver, onClick, openFile, pageData, postJSON } from "./draft_common.js";

const PROBLEM = "dsdt-problem";

function translator(dictionary) {
  return function translate(template, replacements) {
    const text = dictionary[template] || template;
    return text.replace(/{([^}]+)}/g, (_, key) => (replacements && key in replacements ? replacements[key] : `{${key}}`));
  };
}

function setup(root) {
  const data = pageData();
  const labels = data.labels;
  const list = root.querySelector(".modeler-problems");
  const announce = announcer(root);

  const modeler = new BpmnModeler({
    container: root.querySelector(".modeler-canvas"),
    propertiesPanel: { parent: root.querySelector(".modeler-panel") },
    linting: { bpmnlint: lintConfig, active: true },
    moddleExtensions: { spiffworkflow },
    additionalModules: [
      BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, spiffProviderModule(labels, data.roles || []), lintModule,
      { translate: ["value", translator(data.translations || {})] },
    ],
  });
  const svg = modeler.get("canvas")._svg;
  svg.setAttribute("role", "application");
  svg.setAttribute("aria-label", labels.canvas);

  let overlayIds = [];
  function clearProblems() {
    const canvas = modeler.get("canvas");
    const overlays = modeler.get("overlays");
    for (const id of overlayIds) overlays.remove(id);
    overlayIds = [];
    for (const element of modeler.get("elementRegistry").getAll()) canvas.removeMarker(element.id, PROBLEM);
    list.replaceChildren();
  }

  function select(id) {
    const element = modeler.get("elementRegistry").get(id);
    if (!element) return;
    modeler.get("selection").select(element);
    modeler.get("canvas").scrollToElement(element);
  }

  function showProblems(problems) {
    clearProblems();
    const canvas = modeler.get("canvas");
    const overlays = modeler.get("overlays");
    const registry = modeler.get("elementRegistry");
    for (const problem of problems) {
      const item = document.createElement("li");
      const here = problem.element_id && (!problem.file || problem.file === data.path) && registry.get(problem.element_id);
      const text = `${problem.file || ""}${problem.element_id ? ` — ${problem.element_id}` : ""} : ${problem.message}`;
      if (here) {
        canvas.addMarker(problem.element_id, PROBLEM);
        const badge = document.createElement("div");
        badge.className = "dsdt-problem-badge";
        badge.textContent = problem.message;
        badge.dataset.elementId = problem.element_id;
        overlayIds.push(overlays.add(problem.element_id, "dsdt-problem", { position: { bottom: -6, left: 0 }, html: badge }));
        const button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.textContent = text;
        button.addEventListener("click", () => select(problem.element_id));
        item.append(button);
      } else {
        item.textContent = text;
      }
      list.append(item);
    }
    if (!problems.length) {
      const item = document.createElement("li");
      item.textContent = labels.noProblem;
      list.append(item);
    }
  }

  async function check() {
    announce(labels.checking);
    const { status: code, data: body } = await postJSON(data.checkUrl, data.csrf, {});
    if (code !== 200) { announce(body.error || labels.failed); return; }
    showProblems(body.problems);
    announce(body.problems.length ? labels.problemsFound.replace("{n}", body.problems.length) : labels.noProblem);
  }

  // After a save, the server's checks; a conflict (409) shows the page's explanation.
  const save = draftSaver(data, modeler, announce, {
    saved: () => check(),
    refused: (code) => { root.querySelector(".modeler-conflict").hidden = code !== 409; },
  });

  onClick(root.querySelector(".modeler-save"), save, announce, labels.failed);
  onClick(root.querySelector(".modeler-check"), check, announce, labels.failed);
  root.querySelector(".modeler-lint").addEventListener("click", () => modeler.get("linting").toggle());

  openFile(root, modeler, data, announce, ({ warnings }) => {
    modeler.get("canvas").zoom("fit-viewport");
    if (warnings.length) console.warn(warnings);
  });
  window.dsdtModeler = modeler; // for the browser tests and the console
}

const root = document.getElementById("modeler");
if (root) setup(root);
