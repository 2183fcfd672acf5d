"""OAI-PMH 2.0 over the catalogue records (ARCHITECTURE §5; docs/federation-oai.md).

Pure protocol logic: `respond(repository, arguments)` turns the arguments of one request into the
XML answer, reading `federation.Record` rows only. The view (`oai_views`) just hands the request's
arguments and the repository it is served as to `serve`, which answers from the cache or `respond`.

* Items are the records this site exposes: on the national site every record (its own and every
  one pushed to it), elsewhere the site's own records (`is_local`), never pulled copies.
* Identifiers are `oai:<repositoryIdentifier>:<catalogue id>`; GetRecord also takes the bare
  catalogue id (`urn:culture:…`).
* Datestamps are `Record.changed_at` in UTC at seconds granularity; `from`/`until` are inclusive.
* Lists page by `seq` (keyset). The first page fixes a high-water mark (the largest `seq` then
  committed, read under the records lock so no change is in flight); later pages never go past
  it, so an item appears at most once per list, and whatever changes during the harvest has a
  datestamp at or after the first page's responseDate: the next incremental harvest
  (`from=<that responseDate>`) gets it.
* Records that are deleted or unpublished (withdrawn) are reported as deleted: a header with
  status="deleted" and no metadata (deletedRecord = persistent).
* Answers are kept in a cache per tenant, keyed by the request and the records' latest change
  (`serve`): a repeated page costs one query.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

from django.conf import settings
from django.core import signing
from django.core.cache import caches
from django.db import transaction
from django.db.models import Count, Max, Min, Q
from django.utils import translation

from cms_pages.models import ResourcePage

from .envelope import KIND_LABELS
from .models import Record

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_ID_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
CULTURE_NS = "https://culture.localhost/ns/culture/1.0"
CULTURE_SCHEMA_PATH = "culture.xsd"  # relative to the endpoint: /oai/culture.xsd

# ElementTree's prefixes are process-wide; "" makes OAI-PMH the default namespace of the answers
# (its `default_namespace` option refuses unqualified attributes such as status="deleted").
for _prefix, _uri in (
    ("", OAI_NS),
    ("xsi", XSI_NS),
    ("oai_dc", OAI_DC_NS),
    ("dc", DC_NS),
    ("oai-identifier", OAI_ID_NS),
    ("culture", CULTURE_NS),
):
    ET.register_namespace(_prefix, _uri)

GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
METADATA_PREFIXES = ("oai_dc", "culture")
VERBS = {
    # verb: (required arguments, optional arguments); resumptionToken is exclusive where allowed
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
}
SET_GROUPS = {"type": "按内容类型", "origin": "按来源站点", "category": "按资源分类"}
DCMI_TYPE_OF_KIND = {"news": "Text", "activity": "Event"}
DCMI_TYPE_OF_RESOURCE = {
    "video": "MovingImage",
    "audio": "Sound",
    "ebook": "Text",
    "image_set": "StillImage",
    "article": "Text",
}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
# The forms OAI-PMH.xsd gives the arguments (metadataPrefixType, setSpecType) and a URI for an
# identifier: a value of another form is a badArgument, never a "no such format / set / item".
_METADATA_PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
_SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\x00-\x20<>\"{}|\\^`\x7f]+")
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SUBJECT_SPLIT = re.compile(r"[；;]")


@dataclass(frozen=True)
class Repository:
    """The site a request is answered as."""

    name: str
    base_url: str  # the absolute URL of this endpoint on the tenant's primary public URL
    identifier: str  # repositoryIdentifier of the oai-identifier scheme
    admin_email: str
    schema: str
    whole_catalogue: bool  # the national site: every record it holds, not only its own

    @property
    def culture_schema_url(self) -> str:
        return self.base_url + CULTURE_SCHEMA_PATH


def repository_for(tenant) -> Repository:
    """The repository a tenant's endpoint answers as (no query: the tenant is the request's).

    baseURL is on the tenant's primary public URL whatever host the request used, so a harvester
    that started on another of its domains is led to the one the items' URLs are on."""
    from tenants.services import absolute_url, contact_email

    label = tenant.schema_name.replace("_", "-")
    return Repository(
        name=tenant.name,
        base_url=absolute_url(tenant, "/oai/"),
        identifier=f"{label}.{settings.PLATFORM_DOMAIN}",
        admin_email=contact_email(tenant),
        schema=tenant.schema_name,
        whole_catalogue=tenant.kind == "national",
    )


def page_size() -> int:
    return max(1, int(getattr(settings, "OAI_PAGE_SIZE", 100)))


class OAIError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- Entry point ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    xml: bytes  # the UTF-8 document
    dated: bool  # responseDate is the moment a list was fixed (its first page), not "now"


def respond(repo: Repository, arguments: dict[str, list[str]] | None, now: datetime | None = None) -> bytes:
    """The OAI-PMH answer (UTF-8 XML) to one request's arguments (name → list of values).

    `arguments` None: a POST whose body is not application/x-www-form-urlencoded."""
    return render(repo, arguments, now).xml


def render(repo: Repository, arguments: dict[str, list[str]] | None, now: datetime | None = None) -> Answer:
    """`respond`, saying also whether responseDate is the list's own moment (see `serve`)."""
    now = now or datetime.now(UTC)
    root = ET.Element(f"{{{OAI_NS}}}OAI-PMH")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_NS} {OAI_SCHEMA}")
    date_element = _sub(root, "responseDate", _stamp(now))
    request_element = _sub(root, "request", repo.base_url)
    dated = False
    try:
        verb, args = _check_arguments(arguments)
        # Arguments are valid: the request element echoes them (per the spec, only then).
        request_element.set("verb", verb)
        for name, value in sorted(args.items()):
            request_element.set(name, _clean(value))
        body, answered_at = HANDLERS[verb](repo, args, now)
        if answered_at:
            date_element.text = _stamp(answered_at)
            dated = True
        root.append(body)
    except OAIError as error:
        if error.code in ("badVerb", "badArgument"):
            request_element.attrib.clear()  # the spec: echo the arguments only when they are valid
        _sub(root, "error", error.message).set("code", error.code)
    xml = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return Answer(xml, dated)


# --- Answer cache --------------------------------------------------------------------------------
#
# An answer depends only on the repository (the tenant: its schema, name, addresses), the
# request's arguments, OAI_PAGE_SIZE and the records of the schema (and is keyed by the active
# language as well). Records change only through
# federation.services and federation.pull, and every change takes the next `seq` under the
# records lock (services.next_seq) and stamps `changed_at`; records are never deleted (a deletion
# is a tombstone, itself a change). So (seq, changed_at) of the latest change moves with every
# committed change, and since `changed_at` comes from the clock it never comes back with other
# content, not even after a database is restored from a backup (or a test's transaction rolled
# back) while the cache lives on. Reading it is one index lookup: a repeated harvest page costs
# that query and a cache read instead of the list's queries and the XML of a hundred records.
#
# Entries live in the `pages` cache alias (Redis in production, shared by every web process; a
# folder in development), whose keys name the tenant themselves: the key starts with the schema.

CACHE_ALIAS = "pages"
# Part of every key: raise it when the answers' XML changes form, so entries written by an older
# release are never served by a newer one.
CACHE_FORMAT = 1


def cache_seconds() -> int:
    return int(getattr(settings, "OAI_CACHE_SECONDS", 3600))


def records_version() -> tuple[int, str]:
    """(seq, changed_at) of the schema's latest record change; (0, "") with no records."""
    latest = Record.objects.order_by("-seq").values_list("seq", "changed_at").first()
    return (latest[0], latest[1].isoformat()) if latest else (0, "")


def _cache_key(repo: Repository, verb: str, args: dict[str, str], version: tuple[int, str]) -> str:
    # The language too (/en/oai/ answers the same endpoint): the labels are Chinese whatever the
    # language today, but an answer must never depend on something its key does not name.
    language = translation.get_language()
    request = repr((repo, page_size(), language, verb, sorted(args.items()), version))
    return f"oai:{repo.schema}:{CACHE_FORMAT}:{hashlib.sha256(request.encode()).hexdigest()}"


def serve(repo: Repository, arguments: dict[str, list[str]] | None, now: datetime | None = None) -> bytes:
    """`respond`, from the answer cache when the same request was answered under the same records.

    Malformed arguments are answered directly (no query, nothing stored). A stored answer gets
    the current responseDate, except the first page of a list: its responseDate is the moment
    the list's high-water mark was read (see `_list`), and it stays that, so a harvester's next
    incremental harvest from it still gets every change committed after that moment."""
    now = now or datetime.now(UTC)
    seconds = cache_seconds()
    try:
        verb, args = _check_arguments(arguments)
    except OAIError:
        return respond(repo, arguments, now)
    if seconds <= 0:
        return respond(repo, arguments, now)
    cache = caches[CACHE_ALIAS]
    key = _cache_key(repo, verb, args, records_version())
    stored = cache.get(key)
    if stored is None:
        answer = render(repo, arguments, now)
        cache.set(key, (answer.xml, answer.dated), seconds)
        return answer.xml
    xml, dated = stored
    return xml if dated else _with_response_date(xml, now)


def _with_response_date(xml: bytes, now: datetime) -> bytes:
    start = xml.index(b"<responseDate>") + len(b"<responseDate>")
    end = xml.index(b"</responseDate>", start)
    return xml[:start] + _stamp(now).encode() + xml[end:]


def _check_arguments(arguments: dict[str, list[str]] | None) -> tuple[str, dict[str, str]]:
    if arguments is None:
        raise OAIError("badArgument", "Content-Type: POST arguments must be application/x-www-form-urlencoded")
    verbs = arguments.get("verb") or []
    if not verbs:
        raise OAIError("badVerb", "verb: missing")
    if len(verbs) > 1:
        raise OAIError("badVerb", "verb: repeated")
    verb = verbs[0]
    if verb not in VERBS:
        raise OAIError("badVerb", f"verb: {verb!r} is not an OAI-PMH verb")
    required, optional = VERBS[verb]
    args = {}
    for name, values in arguments.items():
        if name == "verb":
            continue
        if name not in required | optional:
            raise OAIError("badArgument", f"{name}: not an argument of {verb}")
        if len(values) > 1:
            raise OAIError("badArgument", f"{name}: repeated")
        args[name] = values[0]
    for name, value in args.items():
        _check_syntax(name, value)
    if "resumptionToken" in args:
        if len(args) > 1:
            others = ", ".join(sorted(set(args) - {"resumptionToken"}))
            raise OAIError("badArgument", f"resumptionToken: exclusive, cannot be combined with {others}")
        return verb, args
    missing = sorted(required - set(args))
    if missing:
        raise OAIError("badArgument", f"{', '.join(missing)}: required for {verb}")
    return verb, args


def _check_syntax(name: str, value: str) -> None:
    """badArgument for an empty or malformed value (the schema's forms for each argument)."""
    if not value.strip():
        raise OAIError("badArgument", f"{name}: empty")
    if name == "metadataPrefix" and not _METADATA_PREFIX.fullmatch(value):
        raise OAIError("badArgument", f"{name}: {value!r} is not a metadata prefix")
    if name == "set" and not _SET_SPEC.fullmatch(value):
        raise OAIError("badArgument", f"{name}: {value!r} is not a setSpec")
    if name == "identifier" and not _IDENTIFIER.fullmatch(value):
        raise OAIError("badArgument", f"{name}: {value!r} is not an identifier (a URI)")
    if name in ("from", "until"):
        _parse_date(name, value)


# --- Items and their selection ---------------------------------------------------------------------


def exposed_records(repo: Repository):
    records = Record.objects.all()
    return records if repo.whole_catalogue else records.filter(is_local=True)


def oai_identifier(repo: Repository, record: Record) -> str:
    return f"oai:{repo.identifier}:{record.catalogue_id}"


def _find(repo: Repository, identifier: str) -> Record:
    prefix = f"oai:{repo.identifier}:"
    catalogue_id = identifier[len(prefix) :] if identifier.startswith(prefix) else identifier
    record = None
    if catalogue_id.startswith("urn:culture:"):
        record = exposed_records(repo).filter(catalogue_id=catalogue_id).first()
    if record is None:
        raise OAIError("idDoesNotExist", f"identifier: no item {identifier!r} in this repository")
    return record


def _set_filter(set_spec: str) -> Q:
    group, _, value = set_spec.partition(":")
    if group not in SET_GROUPS or ":" in value or (not value and set_spec != group):
        raise OAIError("badArgument", f"set: unknown set {set_spec!r} (see ListSets)")
    if group == "type":
        return Q(kind=value) if value else Q()
    if group == "origin":
        return Q(origin_code=value) if value else Q()
    return Q(kind="resource") & (Q(category=value) if value else ~Q(category=""))


def set_specs(record: Record) -> list[str]:
    specs = [f"type:{record.kind}", f"origin:{record.origin_code}"]
    if record.kind == "resource" and record.category:
        specs.append(f"category:{record.category}")
    return specs


def _parse_date(name: str, value: str) -> tuple[datetime, bool]:
    """(moment, is a whole day); badArgument naming the field when it is not an OAI date."""
    try:
        if _DATETIME.fullmatch(value):
            return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC), False
        if _DATE.fullmatch(value):
            return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC), True
    except ValueError:
        pass
    raise OAIError("badArgument", f"{name}: {value!r} is not a date (YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ)")


def _date_filter(date_from: str | None, date_until: str | None) -> Q:
    """Inclusive bounds at seconds granularity; `until` as a date means the end of that day."""
    query = Q()
    start = end = None
    if date_from:
        start, from_is_day = _parse_date("from", date_from)
        query &= Q(changed_at__gte=start)
    if date_until:
        until, until_is_day = _parse_date("until", date_until)
        try:
            end = until + (timedelta(days=1) if until_is_day else timedelta(seconds=1))
        except OverflowError:
            end = None  # until the end of the calendar (9999-12-31): no upper bound at all
        if end is not None:
            query &= Q(changed_at__lt=end)
    if date_from and date_until:
        if from_is_day != until_is_day:
            raise OAIError("badArgument", "from, until: must have the same granularity")
        if end is not None and start >= end:
            raise OAIError("badArgument", "from: later than until")
    return query


# --- Verbs ---------------------------------------------------------------------------------------


def identify(repo: Repository, args: dict, now: datetime):
    earliest = exposed_records(repo).aggregate(m=Min("changed_at"))["m"] or EPOCH
    # A real item, so a harvester can try GetRecord with it; a well-formed example on an empty site.
    sample = (
        exposed_records(repo)
        .filter(status=Record.Status.LIVE)
        .order_by("seq")
        .values_list("catalogue_id", flat=True)[:1]
    )
    sample_id = next(iter(sample), None) or "urn:culture:000000:resource:00000000-0000-0000-0000-000000000000"
    body = _element("Identify")
    _sub(body, "repositoryName", repo.name)
    _sub(body, "baseURL", repo.base_url)
    _sub(body, "protocolVersion", "2.0")
    _sub(body, "adminEmail", repo.admin_email)
    _sub(body, "earliestDatestamp", _stamp(earliest))
    _sub(body, "deletedRecord", "persistent")
    _sub(body, "granularity", GRANULARITY)
    description = _sub(body, "description")
    scheme = ET.SubElement(description, f"{{{OAI_ID_NS}}}oai-identifier")
    scheme.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_ID_NS} {OAI_ID_SCHEMA}")
    for name, value in (
        ("scheme", "oai"),
        ("repositoryIdentifier", repo.identifier),
        ("delimiter", ":"),
        ("sampleIdentifier", f"oai:{repo.identifier}:{sample_id}"),
    ):
        ET.SubElement(scheme, f"{{{OAI_ID_NS}}}{name}").text = value
    return body, None


def list_metadata_formats(repo: Repository, args: dict, now: datetime):
    if "identifier" in args:
        _find(repo, args["identifier"])
    body = _element("ListMetadataFormats")
    for prefix, schema, namespace in (
        ("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS),
        ("culture", repo.culture_schema_url, CULTURE_NS),
    ):
        fmt = _sub(body, "metadataFormat")
        _sub(fmt, "metadataPrefix", prefix)
        _sub(fmt, "schema", schema)
        _sub(fmt, "metadataNamespace", namespace)
    return body, None


def list_sets(repo: Repository, args: dict, now: datetime):
    if "resumptionToken" in args:
        raise OAIError("badResumptionToken", "resumptionToken: ListSets answers in one response")
    from cms_pages.blocks import RESOURCE_CATEGORIES

    records = exposed_records(repo)
    origins = records.values_list("origin_code", "origin_name").order_by("origin_code", "-seq").distinct("origin_code")
    categories = (
        records.filter(kind="resource").exclude(category="").values_list("category", flat=True).distinct().order_by()
    )
    category_names = dict(RESOURCE_CATEGORIES)
    body = _element("ListSets")
    entries = [("type", SET_GROUPS["type"])]
    entries += [(f"type:{kind}", label) for kind, label in KIND_LABELS.items()]
    entries += [("origin", SET_GROUPS["origin"])]
    entries += [(f"origin:{code}", f"{name}（{code}）") for code, name in origins]
    entries += [("category", SET_GROUPS["category"])]
    entries += [(f"category:{code}", category_names.get(code, code)) for code in sorted(categories)]
    for spec, name in entries:
        item = _sub(body, "set")
        _sub(item, "setSpec", spec)
        _sub(item, "setName", name)
    return body, None


def get_record(repo: Repository, args: dict, now: datetime):
    prefix = _metadata_prefix(args["metadataPrefix"])
    record = _find(repo, args["identifier"])
    body = _element("GetRecord")
    body.append(_record_element(repo, record, prefix))
    return body, None


def list_identifiers(repo: Repository, args: dict, now: datetime):
    return _list(repo, "ListIdentifiers", args, now)


def list_records(repo: Repository, args: dict, now: datetime):
    return _list(repo, "ListRecords", args, now)


def _metadata_prefix(prefix: str) -> str:
    if prefix not in METADATA_PREFIXES:
        raise OAIError("cannotDisseminateFormat", f"metadataPrefix: {prefix!r} is not one of oai_dc, culture")
    return prefix


# --- Lists and resumption tokens -------------------------------------------------------------------


def _token_salt(repo: Repository) -> str:
    return f"federation.oai:{repo.schema}"


def _read_token(repo: Repository, verb: str, token: str) -> dict:
    try:
        state = signing.loads(token, salt=_token_salt(repo))
    except signing.BadSignature:
        raise OAIError("badResumptionToken", "resumptionToken: invalid or tampered") from None
    if not isinstance(state, dict) or state.get("verb") != verb:
        raise OAIError("badResumptionToken", f"resumptionToken: not a token of {verb}")
    if not _TOKEN_KEYS <= set(state):
        raise OAIError("badResumptionToken", "resumptionToken: incomplete")
    return state


_TOKEN_KEYS = {"verb", "prefix", "set", "from", "until", "after", "cursor", "high", "size"}


def _list(repo: Repository, verb: str, args: dict, now: datetime):
    answered_at = None
    if "resumptionToken" in args:
        state = _read_token(repo, verb, args["resumptionToken"])
        query = _date_filter(state["from"], state["until"]) & (_set_filter(state["set"]) if state["set"] else Q())
    else:
        prefix = _metadata_prefix(args["metadataPrefix"])
        query = _date_filter(args.get("from"), args.get("until"))
        if args.get("set"):
            query &= _set_filter(args["set"])
        state = {
            "verb": verb,
            "prefix": prefix,
            "set": args.get("set"),
            "from": args.get("from"),
            "until": args.get("until"),
            "after": 0,
            "cursor": 0,
        }
        # The high-water mark and the list's size, read while no record change is in flight
        # (writers hold this lock from taking their seq until they commit).
        from .services import lock_records

        with transaction.atomic():
            lock_records()
            answered_at = datetime.now(UTC)
            totals = exposed_records(repo).aggregate(high=Max("seq"), size=Count("pk", filter=query))
        if not totals["size"]:
            named = ", ".join(n for n in ("from", "until", "set") if args.get(n)) or "metadataPrefix"
            raise OAIError("noRecordsMatch", f"{named}: no items match these arguments")
        state |= {"high": totals["high"], "size": totals["size"]}
    size = page_size()
    records = exposed_records(repo).filter(query, seq__gt=state["after"], seq__lte=state["high"]).order_by("seq")
    if verb == "ListIdentifiers":
        records = records.only("catalogue_id", "changed_at", "kind", "origin_code", "category", "status", "seq")
    page = list(records[: size + 1])
    more, page = len(page) > size, page[:size]
    if not page:
        # Only when every item left in a resumed list changed meanwhile (each moved past the
        # high-water mark): the next incremental harvest gets them.
        raise OAIError("noRecordsMatch", "resumptionToken: the rest of this list changed; harvest again from its start")
    body = _element(verb)
    for record in page:
        if verb == "ListIdentifiers":
            body.append(_header(repo, record))
        else:
            body.append(_record_element(repo, record, state["prefix"]))
    if more or state["cursor"]:
        token = _sub(body, "resumptionToken")
        token.set("completeListSize", str(state["size"]))
        token.set("cursor", str(state["cursor"]))
        if more:
            following = state | {"after": page[-1].seq, "cursor": state["cursor"] + len(page)}
            token.text = signing.dumps(following, salt=_token_salt(repo), compress=True)
    return body, answered_at


# --- Headers and metadata ------------------------------------------------------------------------


def _withdrawn(record: Record) -> bool:
    return record.status != Record.Status.LIVE


def _header(repo: Repository, record: Record) -> ET.Element:
    header = _element("header")
    if _withdrawn(record):
        header.set("status", "deleted")
    _sub(header, "identifier", oai_identifier(repo, record))
    _sub(header, "datestamp", _stamp(record.changed_at))
    for spec in set_specs(record):
        _sub(header, "setSpec", spec)
    return header


def _record_element(repo: Repository, record: Record, prefix: str) -> ET.Element:
    element = _element("record")
    element.append(_header(repo, record))
    if not _withdrawn(record):
        metadata = _sub(element, "metadata")
        metadata.append(oai_dc(record) if prefix == "oai_dc" else culture(repo, record))
    return element


def _labels() -> tuple[dict, dict]:
    from cms_pages.blocks import RESOURCE_CATEGORIES
    from cms_pages.models import ActivityPage

    return dict(RESOURCE_CATEGORIES), dict(ActivityPage.CATEGORIES)


def dublin_core(record: Record) -> list[tuple[str, str]]:
    """(element, value) pairs of simple Dublin Core for a record, in element order."""
    envelope = record.envelope
    payload = envelope.get("payload") or {}
    dc = payload.get("dc") or {}
    kind = envelope.get("kind") or record.kind
    origin = envelope.get("origin") or {}
    resource_categories, activity_categories = _labels()
    values: dict[str, list[str]] = {name: [] for name in _DC_ELEMENTS}

    def add(name, value):
        value = str(value or "").strip()
        if value and value not in values[name]:
            values[name].append(value)

    add("title", payload.get("title") or record.title)
    add("creator", dc.get("creator"))
    if kind == "activity":
        add("creator", payload.get("organiser"))
    for subject in _SUBJECT_SPLIT.split(str(dc.get("subject") or "")):
        add("subject", subject)
    category = payload.get("category")
    if kind == "resource":
        add("subject", resource_categories.get(category, ""))
    elif kind == "activity":
        add("subject", activity_categories.get(category, ""))
    add("description", dc.get("description") or payload.get("summary"))
    add("publisher", dc.get("publisher") or origin.get("name") or record.origin_name)
    add("contributor", dc.get("contributor"))
    if kind == "resource":
        add("date", dc.get("date") or envelope.get("published_at"))
    elif kind == "news":
        add("date", payload.get("date") or envelope.get("published_at"))
    else:
        add("date", payload.get("start"))
    add("type", dc.get("type"))
    add("type", DCMI_TYPE_OF_RESOURCE.get(payload.get("resource_kind")) or DCMI_TYPE_OF_KIND.get(kind))
    add("format", dc.get("format"))
    add("identifier", record.catalogue_id)
    add("identifier", envelope.get("canonical_url"))
    add("identifier", dc.get("identifier"))
    add("source", dc.get("source") or (payload.get("source") if kind == "news" else ""))
    add("language", dc.get("language") or payload.get("language"))
    add("relation", dc.get("relation"))
    add("coverage", dc.get("coverage"))
    if kind == "activity":
        add("coverage", " ".join(p for p in (payload.get("venue_name"), payload.get("venue_address")) if p))
    add("rights", dc.get("rights"))
    add("rights", envelope.get("attribution"))
    return [(name, value) for name in _DC_ELEMENTS for value in values[name]]


# The fifteen Dublin Core elements, in the order oai_dc lists them (title, then the resource's own).
_DC_ELEMENTS = ("title", *ResourcePage.DUBLIN_CORE)


def oai_dc(record: Record) -> ET.Element:
    root = ET.Element(f"{{{OAI_DC_NS}}}dc")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} {OAI_DC_SCHEMA}")
    for name, value in dublin_core(record):
        ET.SubElement(root, f"{{{DC_NS}}}{name}").text = _clean(value)
    return root


def culture(repo: Repository, record: Record) -> ET.Element:
    """The rich format: everything a library needs to describe and link the item."""
    envelope = record.envelope
    payload = envelope.get("payload") or {}
    origin = envelope.get("origin") or {}
    kind = envelope.get("kind") or record.kind
    resource_categories, activity_categories = _labels()

    root = ET.Element(f"{{{CULTURE_NS}}}record")
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{CULTURE_NS} {repo.culture_schema_url}")

    def sub(parent, name, value=None, **attributes):
        element = ET.SubElement(parent, f"{{{CULTURE_NS}}}{name}")
        if value is not None:
            element.text = _clean(str(value))
        for key, attribute in attributes.items():
            if attribute not in (None, ""):
                element.set(key, _clean(str(attribute)))
        return element

    def optional(parent, name, value, **attributes):
        if value not in (None, ""):
            sub(parent, name, value, **attributes)

    sub(root, "catalogueId", record.catalogue_id)
    sub(root, "uid", envelope.get("uid") or record.uid)
    sub(root, "kind", kind, label=KIND_LABELS.get(kind, ""))
    category = payload.get("category") or ""
    if category:
        names = resource_categories if kind == "resource" else activity_categories
        sub(root, "category", names.get(category, category), code=category)
    sub(root, "origin", origin.get("name") or record.origin_name, code=record.origin_code, slug=origin.get("slug"))
    optional(root, "originUrl", origin.get("base_url"))
    sub(root, "version", envelope.get("version") or record.version)
    optional(root, "updated", envelope.get("updated_at"))
    optional(root, "published", envelope.get("published_at"))
    optional(root, "canonicalUrl", envelope.get("canonical_url"))
    optional(root, "attribution", envelope.get("attribution"))
    sub(root, "title", payload.get("title") or record.title)
    optional(root, "summary", payload.get("summary"))
    optional(root, "language", payload.get("language"))
    dc = sub(root, "dc")
    for name, value in dublin_core(record):
        ET.SubElement(dc, f"{{{DC_NS}}}{name}").text = _clean(value)
    if kind == "news":
        news = sub(root, "news")
        optional(news, "date", payload.get("date"))
        optional(news, "source", payload.get("source"))
    elif kind == "activity":
        activity = sub(root, "activity")
        optional(activity, "start", payload.get("start"))
        optional(activity, "end", payload.get("end"))
        optional(activity, "audience", payload.get("audience"))
        optional(activity, "organiser", payload.get("organiser"))
        optional(activity, "venueName", payload.get("venue_name"))
        optional(activity, "venueAddress", payload.get("venue_address"))
        optional(activity, "locationNote", payload.get("location_note"))
    elif kind == "resource":
        resource = sub(root, "resource")
        optional(resource, "resourceKind", payload.get("resource_kind"))
        optional(resource, "durationSeconds", payload.get("duration_seconds"))
        optional(resource, "streamUrl", payload.get("stream_url"))
        optional(resource, "document", payload.get("document"))
    optional(root, "coverImage", payload.get("cover_image"))
    assets = envelope.get("assets") or []
    if assets:
        listing = sub(root, "assets")
        for asset in assets:
            item = sub(
                listing,
                "asset",
                role=asset.get("role"),
                sha256=asset.get("sha256"),
                size=asset.get("size"),
                mime=asset.get("mime"),
            )
            optional(item, "url", asset.get("url"))
            optional(item, "filename", asset.get("filename"))
            optional(item, "title", asset.get("title"))
    return root


# --- XML helpers -----------------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(text: str) -> str:
    """Text without the characters XML 1.0 cannot carry (control characters)."""
    return _NOT_XML.sub("", text)


def _element(name: str) -> ET.Element:
    return ET.Element(f"{{{OAI_NS}}}{name}")


def _sub(parent: ET.Element, name: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{OAI_NS}}}{name}")
    if text is not None:
        element.text = _clean(text)
    return element


HANDLERS = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
    "GetRecord": get_record,
}


CULTURE_XSD = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- The culture metadata format of Culture Cloud's OAI-PMH endpoint (docs/federation-oai.md). -->
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:culture="{CULTURE_NS}"
           targetNamespace="{CULTURE_NS}"
           elementFormDefault="qualified" attributeFormDefault="unqualified">
  <xs:complexType name="coded">
    <xs:simpleContent>
      <xs:extension base="xs:string">
        <xs:attribute name="code" type="xs:string"/>
        <xs:attribute name="slug" type="xs:string"/>
        <xs:attribute name="label" type="xs:string"/>
      </xs:extension>
    </xs:simpleContent>
  </xs:complexType>
  <xs:element name="record">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="catalogueId" type="xs:anyURI"/>
        <xs:element name="uid" type="xs:string"/>
        <xs:element name="kind" type="culture:coded"/>
        <xs:element name="category" type="culture:coded" minOccurs="0"/>
        <xs:element name="origin" type="culture:coded"/>
        <xs:element name="originUrl" type="xs:anyURI" minOccurs="0"/>
        <xs:element name="version" type="xs:positiveInteger"/>
        <xs:element name="updated" type="xs:string" minOccurs="0"/>
        <xs:element name="published" type="xs:string" minOccurs="0"/>
        <xs:element name="canonicalUrl" type="xs:anyURI" minOccurs="0"/>
        <xs:element name="attribution" type="xs:string" minOccurs="0"/>
        <xs:element name="title" type="xs:string"/>
        <xs:element name="summary" type="xs:string" minOccurs="0"/>
        <xs:element name="language" type="xs:string" minOccurs="0"/>
        <xs:element name="dc">
          <xs:complexType>
            <xs:sequence>
              <xs:any namespace="{DC_NS}" processContents="lax" minOccurs="0" maxOccurs="unbounded"/>
            </xs:sequence>
          </xs:complexType>
        </xs:element>
        <xs:choice minOccurs="0">
          <xs:element name="news">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="date" type="xs:string" minOccurs="0"/>
                <xs:element name="source" type="xs:string" minOccurs="0"/>
              </xs:sequence>
            </xs:complexType>
          </xs:element>
          <xs:element name="activity">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="start" type="xs:string" minOccurs="0"/>
                <xs:element name="end" type="xs:string" minOccurs="0"/>
                <xs:element name="audience" type="xs:string" minOccurs="0"/>
                <xs:element name="organiser" type="xs:string" minOccurs="0"/>
                <xs:element name="venueName" type="xs:string" minOccurs="0"/>
                <xs:element name="venueAddress" type="xs:string" minOccurs="0"/>
                <xs:element name="locationNote" type="xs:string" minOccurs="0"/>
              </xs:sequence>
            </xs:complexType>
          </xs:element>
          <xs:element name="resource">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="resourceKind" type="xs:string" minOccurs="0"/>
                <xs:element name="durationSeconds" type="xs:nonNegativeInteger" minOccurs="0"/>
                <xs:element name="streamUrl" type="xs:string" minOccurs="0"/>
                <xs:element name="document" type="xs:string" minOccurs="0"/>
              </xs:sequence>
            </xs:complexType>
          </xs:element>
        </xs:choice>
        <xs:element name="coverImage" type="xs:string" minOccurs="0"/>
        <xs:element name="assets" minOccurs="0">
          <xs:complexType>
            <xs:sequence>
              <xs:element name="asset" maxOccurs="unbounded">
                <xs:complexType>
                  <xs:sequence>
                    <xs:element name="url" type="xs:anyURI" minOccurs="0"/>
                    <xs:element name="filename" type="xs:string" minOccurs="0"/>
                    <xs:element name="title" type="xs:string" minOccurs="0"/>
                  </xs:sequence>
                  <xs:attribute name="role" type="xs:string"/>
                  <xs:attribute name="sha256" type="xs:string" use="required"/>
                  <xs:attribute name="size" type="xs:nonNegativeInteger"/>
                  <xs:attribute name="mime" type="xs:string"/>
                </xs:complexType>
              </xs:element>
            </xs:sequence>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""
