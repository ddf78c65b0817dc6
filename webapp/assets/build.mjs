// Builds the front-end assets into webapp/static/build/ (generated, not committed):
//   viewer.js          the BPMN diagram viewer of the dossier page (bpmn-js NavigatedViewer), bundled by esbuild
//   forms.js           the task form's progressive enhancement (rows added and removed, unsaved-changes notice)
//   replay.js          the auditors' step-by-step replay of a dossier on its diagram (bpmn-js NavigatedViewer)
//   heatmap.js         the auditors' process analytics: the diagram coloured by waiting time (bpmn-js NavigatedViewer)
//   modeler.js         the process owners' BPMN editor (bpmn-js Modeler, properties panel, bpmnlint)
//   dmn.js             the process owners' decision table editor (dmn-js)
//   form_editor.js     the form editor's live preview
//   version_diff.js    the process owners' diff of two versions: both diagrams with their changes marked
//   modeler/           the CSS and fonts of the editors (properties panel, bpmnlint, bpmn-font, dmn-js)
//   diagram-js.css,    bpmn-js's own styles, copied as they are
//   bpmn-js.css
// Run by bin/setup through `npm run build`.
import { copyFile, cp, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const out = join(root, "webapp", "static", "build");

await mkdir(out, { recursive: true });
await esbuild.build({
  entryPoints: { viewer: join(here, "viewer.js"), forms: join(here, "forms.js"), replay: join(here, "replay.js"),
                 heatmap: join(here, "heatmap.js"), modeler: join(here, "modeler", "modeler.js"),
                 dmn: join(here, "modeler", "dmn_editor.js"), form_editor: join(here, "modeler", "form_editor.js"),
                 version_diff: join(here, "version_diff.js"), history_check: join(here, "history_check.js") },
  outdir: out,
  bundle: true,
  format: "iife",
  minify: true,
  sourcemap: true,
  target: ["es2020"],
  legalComments: "linked",
  logLevel: "warning",
});
for (const file of ["diagram-js.css", "bpmn-js.css"]) {
  await copyFile(join(root, "node_modules", "bpmn-js", "dist", "assets", file), join(out, file));
}
// The editors' styles and icon fonts (as files: the CSP allows fonts from 'self' only, not data: URIs).
const editorAssets = join(out, "modeler");
await mkdir(editorAssets, { recursive: true });
const modules = join(root, "node_modules");
await copyFile(join(modules, "@bpmn-io", "properties-panel", "dist", "assets", "properties-panel.css"),
               join(editorAssets, "properties-panel.css"));
await copyFile(join(modules, "bpmn-js-bpmnlint", "dist", "assets", "css", "bpmn-js-bpmnlint.css"),
               join(editorAssets, "bpmn-js-bpmnlint.css"));
await cp(join(modules, "bpmn-js", "dist", "assets", "bpmn-font"), join(editorAssets, "bpmn-font"), { recursive: true });
await cp(join(modules, "dmn-js", "dist", "assets"), join(editorAssets, "dmn-js"), { recursive: true });
console.log(`assets built in ${out}`);
