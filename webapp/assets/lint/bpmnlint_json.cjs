// bpmnlint's rules on BPMN files, one JSON report per line on stdout (read by `dsdt lint`).
// Usage: node bpmnlint_json.cjs CONFIG FILE...  (CONFIG: the repository's .bpmnlintrc)
// Each report: {"file", "id", "rule", "category", "message"}. Exit 0 whatever was found, 2 on a
// usage error: the caller decides from the reports.
//
// Import warnings of the loop data references are left out: SpiffWorkflow's multi-instance tasks
// name a data variable in loopDataInputRef/loopDataOutputRef (our jury steps do), where BPMN
// expects the id of a data object; bpmn-moddle reports the reference unresolved. Every other
// import warning is reported (rule "bpmnlint/import").
"use strict";

const { readFileSync } = require("node:fs");
const { BpmnModdle } = require("bpmn-moddle");
const Linter = require("bpmnlint/lib/linter");
const NodeResolver = require("bpmnlint/lib/resolver/node-resolver");

const SPIFF_DATA_REFS = new Set(["bpmn:loopDataInputRef", "bpmn:loopDataOutputRef"]);

async function main() {
  const [config, ...files] = process.argv.slice(2);
  if (!config || files.length === 0) {
    console.error("usage: node bpmnlint_json.cjs CONFIG FILE...");
    process.exit(2);
  }
  const linter = new Linter({ config: JSON.parse(readFileSync(config, "utf8")), resolver: new NodeResolver() });
  for (const file of files) {
    const report = (fields) => console.log(JSON.stringify({ file, ...fields }));
    let root;
    try {
      const result = await new BpmnModdle().fromXML(readFileSync(file, "utf8"));
      root = result.rootElement;
      for (const warning of result.warnings || []) {
        if (!SPIFF_DATA_REFS.has(warning.property)) {
          report({ id: warning.element && warning.element.id, rule: "import", category: "error", message: warning.message });
        }
      }
    } catch (error) {
      report({ id: null, rule: "import", category: "error", message: error.message });
      continue;
    }
    const results = await linter.lint(root);
    for (const [rule, reports] of Object.entries(results)) {
      for (const r of reports) {
        report({ id: r.id || null, rule, category: r.category === "warn" ? "warning" : r.category, message: r.message });
      }
    }
  }
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(1);
});
