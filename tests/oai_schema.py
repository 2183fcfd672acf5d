"""Validation of OAI-PMH answers against the official XML Schemas in tests/xsd (see its README).

`validate(xml_bytes)` raises AssertionError naming every schema violation. One schema set covers
the protocol (OAI-PMH.xsd), oai_dc with simple Dublin Core, the oai-identifier description of
Identify, and the project's `culture` format; every `schemaLocation` is resolved to a local file,
nothing is fetched.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).resolve().parent / "xsd"
OFFICIAL_LOCATIONS = {
    "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd": "OAI-PMH.xsd",
    "http://www.openarchives.org/OAI/2.0/oai_dc.xsd": "oai_dc.xsd",
    "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd": "oai-identifier.xsd",
    "http://dublincore.org/schemas/xmls/simpledc20021212.xsd": "simpledc20021212.xsd",
    "http://www.w3.org/2001/03/xml.xsd": "xml.xsd",
    "http://www.w3.org/2001/xml.xsd": "xml.xsd",
}
CULTURE_LOCATION = "urn:culture-cloud:culture.xsd"


class _LocalSchemas(etree.Resolver):
    def resolve(self, url, pubid, context):
        if url == CULTURE_LOCATION:
            from federation.oai import CULTURE_XSD

            return self.resolve_string(CULTURE_XSD.encode(), context)
        name = OFFICIAL_LOCATIONS.get(url) or (
            Path(url).name if Path(url).name in OFFICIAL_LOCATIONS.values() else None
        )
        if name is None:
            raise AssertionError(f"schema {url!r} is not vendored in tests/xsd")
        return self.resolve_filename(str(XSD_DIR / name), context)


@cache
def oai_schema() -> etree.XMLSchema:
    from federation import oai

    imports = [
        (oai.OAI_NS, oai.OAI_SCHEMA),
        (oai.OAI_DC_NS, oai.OAI_DC_SCHEMA),
        (oai.OAI_ID_NS, oai.OAI_ID_SCHEMA),
        (oai.CULTURE_NS, CULTURE_LOCATION),
    ]
    driver = (
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:culture-cloud:tests">'
        + "".join(f'<xs:import namespace="{ns}" schemaLocation="{location}"/>' for ns, location in imports)
        + "</xs:schema>"
    )
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemas())
    return etree.XMLSchema(etree.fromstring(driver.encode(), parser, base_url=str(XSD_DIR / "driver.xsd")))


def validate(xml: bytes) -> None:
    """Raise AssertionError unless `xml` is a valid OAI-PMH 2.0 answer (metadata included)."""
    schema = oai_schema()
    document = etree.fromstring(xml)
    if not schema.validate(document):
        problems = "\n".join(f"line {e.line}: {e.message}" for e in schema.error_log)
        raise AssertionError(
            f"OAI-PMH answer does not validate against the official schemas:\n{problems}\n{xml[:2000]!r}"
        )
