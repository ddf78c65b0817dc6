// Builds the front-end assets into webapp/static/build/ (generated, not committed):
//   viewer.js          the BPMN diagram viewer of the dossier page (bpmn-js NavigatedViewer), bundled by esbuild
//   forms.js           the task form's progressive enhancement (rows added and removed, unsaved-changes notice)
//   replay.js          the auditors' step-by-step replay of a dossier on its diagram (bpmn-js NavigatedViewer)
//   heatmap.js         the auditors' process analytics: the diagram coloured by waiting time (bpmn-js NavigatedViewer)
//   diagram-js.css,    bpmn-js's own styles, copied as they are
//   bpmn-js.css
// Run by bin/setup through `npm run build`.
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const out = join(root, "webapp", "static", "build");

await mkdir(out, { recursive: true });
await esbuild.build({
  entryPoints: { viewer: join(here, "viewer.js"), forms: join(here, "forms.js"), replay: join(here, "replay.js"),
                 heatmap: join(here, "heatmap.js") },
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
console.log(`assets built in ${out}`);
