// The properties panel's "DSDT" groups: the spiffworkflow: extensions our processes use, edited
// without touching XML. bpmn-js-properties-panel's own provider already covers names, ids, lanes
// (a lane's name is the role holding its steps), messages and timers (type and value); this adds:
//   user tasks       form (JSON Schema file, UI schema file), data variable, instructions
//   every task       pre-script and post-script
//   script tasks     the script
//   business rules   the called decision
//   call activities  the called process
//   sequence flows   the condition (a Python expression)
//   lanes            the role holding the lane's steps: a select of the known roles (engine/roles.py,
//                    served by the page as `roles`: [{name, role, label}]) setting the lane's name
//   message events   the data variable the message's payload lands in (spiffworkflow:messageVariable);
//                    the message name is bpmn-js's own "Message" group; correlation is by data
// Labels come from the page (translated there): `labels` maps a key to its text.
import { h } from "@bpmn-io/properties-panel/preact";
import {
  Group, SelectEntry, TextAreaEntry, TextFieldEntry, isSelectEntryEdited, isTextAreaEntryEdited, isTextFieldEntryEdited,
} from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

function extensionValues(bo) {
  const ext = bo.get("extensionElements");
  return ext ? ext.get("values") : [];
}

function ensureExtensions(element, bo, bpmnFactory, modeling) {
  let ext = bo.get("extensionElements");
  if (!ext) {
    ext = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    ext.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: ext });
  }
  return ext;
}

// spiffworkflow:instructionsForEndUser, preScript, postScript, calledDecisionId, messageVariable: one
// body each, in the extension elements of `target(element)` (the business object unless told).
function bodyAccessors(type, services, target = getBusinessObject) {
  const { bpmnFactory, modeling } = services;
  return {
    get(element) {
      const item = extensionValues(target(element)).find((v) => v.$instanceOf(type));
      return item ? item.get("value") || "" : "";
    },
    set(element, value) {
      const bo = target(element);
      const ext = ensureExtensions(element, bo, bpmnFactory, modeling);
      const item = ext.get("values").find((v) => v.$instanceOf(type));
      if (!value) {
        if (item) modeling.updateModdleProperties(element, ext, { values: ext.get("values").filter((v) => v !== item) });
      } else if (item) {
        modeling.updateModdleProperties(element, item, { value });
      } else {
        const created = bpmnFactory.create(type, { value });
        created.$parent = ext;
        modeling.updateModdleProperties(element, ext, { values: [...ext.get("values"), created] });
      }
    },
  };
}

// spiffworkflow:properties/spiffworkflow:property[@name]: the form files and variables.
function propertyAccessors(name, services) {
  const { bpmnFactory, modeling } = services;
  const holder = (bo) => extensionValues(bo).find((v) => v.$instanceOf("spiffworkflow:Properties"));
  return {
    get(element) {
      const props = holder(getBusinessObject(element));
      const prop = props && props.get("properties").find((p) => p.name === name);
      return prop ? prop.value || "" : "";
    },
    set(element, value) {
      const bo = getBusinessObject(element);
      const ext = ensureExtensions(element, bo, bpmnFactory, modeling);
      let props = holder(bo);
      if (!props) {
        props = bpmnFactory.create("spiffworkflow:Properties", { properties: [] });
        props.$parent = ext;
        modeling.updateModdleProperties(element, ext, { values: [...ext.get("values"), props] });
      }
      const prop = props.get("properties").find((p) => p.name === name);
      if (!value) {
        if (prop) modeling.updateModdleProperties(element, props, { properties: props.get("properties").filter((p) => p !== prop) });
      } else if (prop) {
        modeling.updateModdleProperties(element, prop, { value });
      } else {
        const created = bpmnFactory.create("spiffworkflow:Property", { name, value });
        created.$parent = props;
        modeling.updateModdleProperties(element, props, { properties: [...props.get("properties"), created] });
      }
    },
  };
}

// A plain attribute of the business object (script, calledElement).
function attributeAccessors(attribute, services) {
  return {
    get: (element) => getBusinessObject(element).get(attribute) || "",
    set: (element, value) => services.modeling.updateProperties(element, { [attribute]: value || undefined }),
  };
}

// A sequence flow's condition: a bpmn:FormalExpression body.
function conditionAccessors(services) {
  const { bpmnFactory, modeling } = services;
  return {
    get(element) {
      const expression = getBusinessObject(element).get("conditionExpression");
      return expression ? expression.get("body") || "" : "";
    },
    set(element, value) {
      const expression = value ? bpmnFactory.create("bpmn:FormalExpression", { body: value }) : undefined;
      modeling.updateProperties(element, { conditionExpression: expression });
    },
  };
}

// The message event definition of a catching or throwing message event (or undefined).
function messageDefinition(element) {
  const definitions = getBusinessObject(element).get("eventDefinitions") || [];
  return definitions.find((d) => is(d, "bpmn:MessageEventDefinition"));
}

// A lane's role: its name is the role label the engine reads (engine/roles.py LANE_ROLES). A name
// the engine does not know stays listed, marked, so that opening a lane never changes it.
function laneRoleEntry(labels, roles) {
  const id = "dsdt-lane-role";
  function Component(props) {
    const { element } = props;
    const modeling = useService("modeling");
    const getValue = () => getBusinessObject(element).get("name") || "";
    const getOptions = () => {
      const current = getValue();
      const options = [{ value: "", label: labels.noRole }]
        .concat(roles.map((r) => ({ value: r.name, label: r.label })));
      if (current && !roles.some((r) => r.name === current)) {
        options.push({ value: current, label: `${current} — ${labels.unknownRole}` });
      }
      return options;
    };
    return h(SelectEntry, {
      element, id, label: labels.laneRole, description: labels.laneRoleHelp, getValue, getOptions,
      setValue: (value) => modeling.updateProperties(element, { name: value || undefined }),
    });
  }
  return { id, component: Component, isEdited: isSelectEntryEdited };
}

function makeEntry(id, kind, labelKey, accessors, labels) {
  function Component(props) {
    const { element } = props;
    const debounce = useService("debounceInput");
    const services = { bpmnFactory: useService("bpmnFactory"), modeling: useService("modeling") };
    const access = accessors(services);
    const common = {
      element, id, label: labels[labelKey] || labelKey, debounce, description: labels[`${labelKey}Help`],
      getValue: () => access.get(element), setValue: (value) => access.set(element, value),
    };
    return kind === "area" ? h(TextAreaEntry, { ...common, rows: 4, monospace: labelKey !== "instructions" })
      : h(TextFieldEntry, common);
  }
  return { id, component: Component, isEdited: kind === "area" ? isTextAreaEntryEdited : isTextFieldEntryEdited };
}

function dsdtEntries(element, labels, roles) {
  const entries = [];
  const bo = getBusinessObject(element);
  if (is(bo, "bpmn:Lane")) entries.push(laneRoleEntry(labels, roles));
  if (is(bo, "bpmn:Event") && messageDefinition(element)) {
    entries.push(makeEntry("dsdt-message-variable", "field", "messageVariable",
      (s) => bodyAccessors("spiffworkflow:MessageVariable", s, messageDefinition), labels));
  }
  if (is(bo, "bpmn:UserTask")) {
    entries.push(
      makeEntry("dsdt-form-schema", "field", "formSchema", (s) => propertyAccessors("formJsonSchemaFilename", s), labels),
      makeEntry("dsdt-form-ui", "field", "formUi", (s) => propertyAccessors("formUiSchemaFilename", s), labels),
      makeEntry("dsdt-form-variable", "field", "formVariable", (s) => propertyAccessors("formDataVariable", s), labels),
      makeEntry("dsdt-instructions", "area", "instructions",
        (s) => bodyAccessors("spiffworkflow:InstructionsForEndUser", s), labels),
    );
  }
  if (is(bo, "bpmn:ScriptTask")) {
    entries.push(makeEntry("dsdt-script", "area", "script", (s) => attributeAccessors("script", s), labels));
  }
  if (is(bo, "bpmn:BusinessRuleTask")) {
    entries.push(makeEntry("dsdt-decision", "field", "decision",
      (s) => bodyAccessors("spiffworkflow:CalledDecisionId", s), labels));
  }
  if (is(bo, "bpmn:CallActivity")) {
    entries.push(makeEntry("dsdt-called", "field", "calledElement", (s) => attributeAccessors("calledElement", s), labels));
  }
  if (is(bo, "bpmn:Activity")) {
    entries.push(
      makeEntry("dsdt-prescript", "area", "preScript", (s) => bodyAccessors("spiffworkflow:PreScript", s), labels),
      makeEntry("dsdt-postscript", "area", "postScript", (s) => bodyAccessors("spiffworkflow:PostScript", s), labels),
    );
  }
  if (is(bo, "bpmn:SequenceFlow") && bo.sourceRef && !is(bo.sourceRef, "bpmn:ParallelGateway")) {
    entries.push(makeEntry("dsdt-condition", "area", "condition", conditionAccessors, labels));
  }
  return entries;
}

export function spiffProviderModule(labels, roles = []) {
  function SpiffPropertiesProvider(propertiesPanel) {
    this.getGroups = (element) => (groups) => {
      const entries = dsdtEntries(element, labels, roles);
      if (entries.length) {
        // First after "General": what a process owner edits most.
        groups.splice(Math.min(1, groups.length), 0, { id: "dsdt", label: labels.group || "DSDT", component: Group, entries });
      }
      return groups;
    };
    propertiesPanel.registerProvider(400, this);
  }
  SpiffPropertiesProvider.$inject = ["propertiesPanel"];
  return { __init__: ["spiffPropertiesProvider"], spiffPropertiesProvider: ["type", SpiffPropertiesProvider] };
}
