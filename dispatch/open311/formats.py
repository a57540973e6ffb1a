"""GeoReport's two formats: the same answer as JSON or as XML (UTF-8 both), and its times in ISO 8601."""
import json
import re
from xml.etree.ElementTree import Element, SubElement, tostring

from dispatch.timeutil import local

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# The element of each item of a list, by the list's own element (XML has no arrays).
ITEM_NAMES = {"services": "service", "service_requests": "request", "errors": "error", "attributes": "attribute",
              "values": "value", "endpoints": "endpoint", "formats": "format", "jurisdictions": "jurisdiction",
              "notes": "note"}
# Characters XML 1.0 cannot carry at all (most C0 controls): dropped, so a stray one cannot break a whole list.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def iso(moment):
    """A time as ISO 8601 in local time with its offset, e.g. 2026-11-21T10:00:00+08:00; None stays None."""
    return local(moment).isoformat(timespec="seconds") if moment else None


def render(fmt, root, body):
    """(text, content type) of an answer: body is a list (of items named after root) or a dict."""
    if fmt == "json":
        return json.dumps(body, ensure_ascii=False), FORMATS["json"]
    element = Element(root)
    _fill(element, root, body)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(element, encoding="utf-8",
                                                                 xml_declaration=False), FORMATS["xml"]


def _fill(element, name, value):
    """Write a value into its element: dicts as children, lists as repeated items, scalars as text."""
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(SubElement(element, key), key, item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _fill(SubElement(element, ITEM_NAMES.get(name, "item")), "", item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif value is not None:
        element.text = NOT_XML.sub("", str(value))
