"""Semantic diff between two sets of model files (two versions, or a version and a draft).

* BPMN: elements by id (diagram interchange left out), added, removed or changed; a change lists
  each attribute, and each piece of content without an id of its own (a script, a condition, a
  timer, a ``spiffworkflow:property``), with its old and new value.
* Forms (``forms/*.json``): the fields of a JSON Schema's ``properties``, added, removed or changed
  (their definition, or whether they are required).
* DMN: each decision table's rules by id, added, removed or changed (the cells that changed).

Files are parsed as deploy parses them (:func:`engine.bpmn.parser._parse_xml`: no DTD, no
entities); a file that does not parse is reported as such, never guessed at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from lxml import etree

from .bpmn.parser import _parse_xml
from .errors import Invalid

DI_NAMESPACES = ("http://www.omg.org/spec/BPMN/20100524/DI", "http://www.omg.org/spec/DD/20100524/DC",
                 "http://www.omg.org/spec/DD/20100524/DI", "https://www.omg.org/spec/DMN/20191111/DMNDI/")
DMN_RULE = "rule"
#: the longest value kept in a change (longer ones are cut, with an ellipsis)
MAX_VALUE = 500


@dataclass(frozen=True)
class Change:
    what: str  # an attribute ("@name"), a content path ("extensionElements/properties/formJsonSchemaFilename")
    old: str | None
    new: str | None


@dataclass(frozen=True)
class ElementDiff:
    """One BPMN element (or DMN rule, or form field) added, removed or changed."""

    file: str
    id: str
    kind: str  # "added", "removed", "changed"
    type: str  # the element's tag ("userTask"), "rule", "field"
    name: str = ""
    changes: tuple[Change, ...] = ()
    parent: str = ""  # the decision of a rule


@dataclass
class ModelDiff:
    bpmn: list[ElementDiff] = field(default_factory=list)
    forms: list[ElementDiff] = field(default_factory=list)
    dmn: list[ElementDiff] = field(default_factory=list)
    files_added: list[str] = field(default_factory=list)
    files_removed: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.bpmn or self.forms or self.dmn or self.files_added or self.files_removed)

    def marks(self, file: str) -> dict[str, str]:
        """BPMN element id → kind of change in ``file`` (what the diagrams highlight)."""
        return {item.id: item.kind for item in self.bpmn if item.file == file}


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _cut(value: str | None) -> str | None:
    if value is None or len(value) <= MAX_VALUE:
        return value
    return value[:MAX_VALUE] + "…"


def _content(element, path: str, into: dict, own: set) -> None:
    """The attributes and text of ``element``'s descendants that are not elements of their own
    (``own``: the ids reported as elements), keyed by their path under ``element``."""
    seen: dict[str, int] = {}
    for child in element:
        if not isinstance(child.tag, str) or etree.QName(child).namespace in DI_NAMESPACES or child.get("id") in own:
            continue
        name = _local(child.tag)
        key_attr = child.get("name")
        label = f"{name}[{key_attr}]" if key_attr else name
        n = seen.get(label, 0)
        seen[label] = n + 1
        label += f"#{n + 1}" if n else ""
        here = f"{path}/{label}" if path else label
        for attr, value in sorted(child.attrib.items()):
            if attr not in ("name", "id"):
                into[f"{here}@{_local(attr)}"] = value
        text = (child.text or "").strip()
        if text:
            into[here] = text
        _content(child, here, into, own)


def _signature(element, own: set) -> dict[str, str]:
    into = {f"@{_local(attr)}": value for attr, value in sorted(element.attrib.items()) if attr != "id"}
    text = (element.text or "").strip()
    if text:
        into["text"] = text
    _content(element, "", into, own)
    return into


def _elements(root, rules_only: bool) -> dict[str, object]:
    """The elements a diff reports, by id: a DMN file's rules; a BPMN file's processes and what
    its diagram draws (the elements DI refers to). Anything else is content of its element."""
    if rules_only:
        return {el.get("id"): el for el in root.iter() if _local(el.tag) == DMN_RULE and el.get("id")}
    drawn = {el.get("bpmnElement") for el in root.iter() if isinstance(el.tag, str) and el.get("bpmnElement")}
    return {el.get("id"): el for el in root.iter() if isinstance(el.tag, str) and el.get("id")
            and etree.QName(el).namespace not in DI_NAMESPACES
            and (el.get("id") in drawn or _local(el.tag) in ("process", "collaboration"))}


def _changes(old: dict, new: dict) -> tuple[Change, ...]:
    return tuple(Change(key, _cut(old.get(key)), _cut(new.get(key)))
                 for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key))


def _xml_diff(path: str, old: bytes, new: bytes, rules_only: bool) -> list[ElementDiff]:
    before, after = _elements(_parse_xml(path, old), rules_only), _elements(_parse_xml(path, new), rules_only)
    own = set(before) | set(after)
    found = []
    for element_id in sorted(own):
        a, b = before.get(element_id), after.get(element_id)
        shown = b if b is not None else a
        tag = _local(shown.tag)
        extra = {}
        if rules_only:
            decision = next((el for el in shown.iterancestors() if _local(el.tag) == "decision"), None)
            extra["parent"] = decision.get("id", "") if decision is not None else ""
        name = shown.get("name", "")
        if a is None:
            found.append(ElementDiff(path, element_id, "added", tag, name, _changes({}, _signature(b, own)), **extra))
        elif b is None:
            found.append(ElementDiff(path, element_id, "removed", tag, name, (), **extra))
        else:
            changes = _changes(_signature(a, own), _signature(b, own))
            if _local(a.tag) != _local(b.tag):
                changes = (Change("type", _local(a.tag), _local(b.tag)), *changes)
            if changes:
                found.append(ElementDiff(path, element_id, "changed", tag, name, changes, **extra))
    return found


def _schema(path: str, data: bytes) -> dict:
    try:
        schema = json.loads(data)
    except ValueError as err:
        raise Invalid(f"{path} is not JSON: {err}", code="model.invalid", params={"detail": f"{path}: {err}"},
                      file=path) from err
    return schema if isinstance(schema, dict) else {}


def _form_diff(path: str, old: bytes, new: bytes) -> list[ElementDiff]:
    a, b = _schema(path, old), _schema(path, new)
    props_a, props_b = a.get("properties") or {}, b.get("properties") or {}
    if not isinstance(props_a, dict) or not isinstance(props_b, dict):
        return []
    req_a, req_b = set(a.get("required") or []), set(b.get("required") or [])
    found = []
    for name in sorted(set(props_a) | set(props_b)):
        if name not in props_a:
            found.append(ElementDiff(path, name, "added", "field", str(props_b[name].get("title", ""))
                                     if isinstance(props_b[name], dict) else ""))
        elif name not in props_b:
            found.append(ElementDiff(path, name, "removed", "field", str(props_a[name].get("title", ""))
                                     if isinstance(props_a[name], dict) else ""))
        else:
            old = {"definition": json.dumps(props_a[name], sort_keys=True, ensure_ascii=False),
                   "required": str(name in req_a)}
            new = {"definition": json.dumps(props_b[name], sort_keys=True, ensure_ascii=False),
                   "required": str(name in req_b)}
            changes = _changes(old, new)
            if changes:
                title = props_b[name].get("title", "") if isinstance(props_b[name], dict) else ""
                found.append(ElementDiff(path, name, "changed", "field", str(title), changes))
    return found


def diff_models(old: dict[str, bytes], new: dict[str, bytes]) -> ModelDiff:
    """What changed from the files ``old`` to the files ``new`` (path → content)."""
    result = ModelDiff(files_added=sorted(set(new) - set(old)), files_removed=sorted(set(old) - set(new)))
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a == b:
            continue
        # an added or removed file: everything in it is added or removed
        if path.endswith(".bpmn"):
            result.bpmn += _xml_diff(path, a or _EMPTY_XML, b or _EMPTY_XML, rules_only=False)
        elif path.endswith(".dmn"):
            result.dmn += _xml_diff(path, a or _EMPTY_XML, b or _EMPTY_XML, rules_only=True)
        elif path.startswith("forms/") and path.endswith(".json"):
            result.forms += _form_diff(path, a or b"{}", b or b"{}")
    return result


_EMPTY_XML = b"<empty/>"
