"""edXML packages (QCVN 102:2016/BTTTT): build and parse document and status messages.

Structure as on the national axis (DOMAIN.md §1.2-1.6): an ``edXML`` root in the QCVN
namespace, ``edXML:``-prefixed envelope children, attachments base64 in ``AttachmentEncoded``
outside the envelope, ``Bussiness`` (sic) with ``Paper`` in the trace header, document ids
``<sender>,<yyyy/MM/dd>,<number>/<notation>``. What we build validates against
``schemas/edxml/qcvn102.xsd``.

Parsing is hardened: a size cap, no DTD (a package with a DOCTYPE is refused outright), no
entity expansion, no network, no huge trees. Foreign values that break our rules (an
identifier code that is not 13 characters, say) are reported in ``problems``, not fatal.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import date, datetime
from xml.sax.saxutils import escape

from lxml import etree

from docexchange.domain.units import parse_code
from docexchange.errors import InvalidInput
from docexchange.resources import schema_file

__all__ = [
    "NS",
    "Attachment",
    "Business",
    "DocumentPackage",
    "Organ",
    "StatusMessage",
    "build_document",
    "build_status",
    "parse_package",
    "validate",
]

NS = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
_Q = f"{{{NS}}}"
#: Largest package accepted (attachments included, base64).
MAX_PACKAGE_BYTES = 80 * 1024 * 1024
#: edXML date and time formats (``yyyy/MM/dd``, ``yyyy/MM/dd HH:mm:ss``).
DAY_FORMAT = "%Y/%m/%d"
MOMENT_FORMAT = "%Y/%m/%d %H:%M:%S"
XSD_PATH = schema_file("edxml", "qcvn102.xsd")


@dataclass(frozen=True)
class Organ:
    """An agency as edXML names it (``From``, ``To``)."""

    organ_id: str
    name: str = ""
    in_charge: str = ""
    address: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True)
class Attachment:
    """One file of a package (our documents: the signed PDF)."""

    content_id: str
    name: str
    content_type: str
    data: bytes
    description: str = ""


@dataclass(frozen=True)
class Business:
    """``TraceHeaderList/Bussiness``: what the message does and whether paper travels too."""

    doc_type: int = 0  # 0 new, 1 revoke, 2 update, 3 replace
    reason: str = "Văn bản điện tử mới"
    document_id: str = ""
    paper: bool = False
    staff: str = ""
    department: str = ""
    email: str = ""
    mobile: str = ""
    replaced: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (document id, organ ids)


@dataclass(frozen=True)
class DocumentPackage:
    """A document message."""

    sender: Organ
    recipients: tuple[Organ, ...]
    document_id: str
    code_number: str
    code_notation: str
    place: str
    promulgation_date: date | None
    type_code: int
    type_name: str
    subject: str
    signer_competence: str
    signer_position: str
    signer_name: str
    priority: int
    business: Business
    attachments: tuple[Attachment, ...]
    due_date: date | None = None
    content: str = ""
    steering_type: int = 0
    to_places: tuple[str, ...] = ()
    trace: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class StatusMessage:
    """A processing-status message about a document (``StatusCode`` 01-16)."""

    sender: Organ
    response_organ_id: str
    response_code: str
    response_date: date | None
    response_document_id: str
    status_code: str
    description: str
    timestamp: datetime | None
    staff: str = ""
    department: str = ""
    email: str = ""
    mobile: str = ""
    problems: tuple[str, ...] = field(default=(), compare=False)


# --- building -----------------------------------------------------------------------------


def _e(tag: str, value: object) -> str:
    return f"<edXML:{tag}>{escape(str(value))}</edXML:{tag}>"


def _organ(tag: str, organ: Organ) -> str:
    return (
        f"<edXML:{tag}>"
        + _e("OrganId", organ.organ_id)
        + _e("OrganizationInCharge", organ.in_charge or organ.name)
        + _e("OrganName", organ.name)
        + _e("OrganAdd", organ.address)
        + _e("Email", organ.email)
        + _e("Telephone", organ.telephone)
        + _e("Fax", organ.fax)
        + _e("Website", organ.website)
        + f"</edXML:{tag}>"
    )


def _day(value: date | None) -> str:
    return value.strftime(DAY_FORMAT) if value else ""


def _wrap(header: str, body: str = "", attachments: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<edXML xmlns="{NS}"><edXML:edXMLEnvelope xmlns:edXML="{NS}">'
        f"<edXML:edXMLHeader>{header}</edXML:edXMLHeader>{body}"
        f"</edXML:edXMLEnvelope>{attachments}</edXML>"
    ).encode()


def build_document(package: DocumentPackage, *, now: datetime) -> bytes:
    """The edXML bytes of a document message (attachments base64 outside the envelope).

    The trace names each system the document passed through (``package.trace``, e.g. the
    issuer and the unit forwarding it); by default the sender alone, now.
    """
    b = package.business
    hops = package.trace or ((package.sender.organ_id, now.strftime(MOMENT_FORMAT)),)
    header = (
        "<edXML:MessageHeader>"
        + _organ("From", package.sender)
        + "".join(_organ("To", organ) for organ in package.recipients)
        + _e("DocumentId", package.document_id)
        + "<edXML:Code>"
        + _e("CodeNumber", package.code_number)
        + _e("CodeNotation", package.code_notation)
        + "</edXML:Code><edXML:PromulgationInfo>"
        + _e("Place", package.place)
        + _e("PromulgationDate", _day(package.promulgation_date))
        + "</edXML:PromulgationInfo><edXML:DocumentType>"
        + _e("Type", package.type_code)
        + _e("TypeDetail", 0)
        + _e("TypeName", package.type_name)
        + "</edXML:DocumentType>"
        + _e("Subject", package.subject)
        + _e("Content", package.content or package.subject)
        + "<edXML:SignerInfo>"
        + _e("Competence", package.signer_competence)
        + _e("Position", package.signer_position)
        + _e("FullName", package.signer_name)
        + "</edXML:SignerInfo>"
        + _e("DueDate", _day(package.due_date))
        + "<edXML:OtherInfo>"
        + _e("Priority", package.priority)
        + _e("SphereOfPromulgation", "Liên thông văn bản")
        + _e("TyperNotation", "")
        + _e("PromulgationAmount", 1)
        + _e("PageAmount", 0)
        + _e("Direction", "false")
        + "</edXML:OtherInfo>"
        + _e("SteeringType", package.steering_type)
        + "<edXML:ToPlaces>"
        + "".join(_e("Place", p) for p in package.to_places)
        + "</edXML:ToPlaces></edXML:MessageHeader>"
        + "<edXML:TraceHeaderList>"
        + "".join(
            "<edXML:TraceHeader>"
            + _e("OrganId", organ)
            + _e("Timestamp", stamp)
            + "</edXML:TraceHeader>"
            for organ, stamp in hops
        )
        + "<edXML:Bussiness>"
        + _e("DocumentId", b.document_id or package.document_id)
        + _e("BussinessDocType", b.doc_type)
        + _e("BussinessDocReason", b.reason)
        + _e("Paper", 1 if b.paper else 0)
        + "<edXML:StaffInfo>"
        + _e("Department", b.department)
        + _e("Staff", b.staff)
        + _e("Email", b.email)
        + _e("Mobile", b.mobile)
        + "</edXML:StaffInfo>"
        + (
            "<edXML:ReplacementInfoList>"
            + "".join(
                "<edXML:ReplacementInfo>"
                + _e("DocumentId", doc)
                + "<edXML:OrganIdList>"
                + "".join(_e("OrganId", o) for o in organs)
                + "</edXML:OrganIdList></edXML:ReplacementInfo>"
                for doc, organs in b.replaced
            )
            + "</edXML:ReplacementInfoList>"
            if b.replaced
            else ""
        )
        + "</edXML:Bussiness></edXML:TraceHeaderList>"
        + "<edXML:DigitalSignature/>"
    )
    body = (
        '<edXML:edXMLBody><edXML:edXMLManifest version="1.0">'
        + "".join(
            "<edXML:Reference>"
            + _e("ContentId", a.content_id)
            + _e("ContentType", a.content_type)
            + _e("Description", a.description or a.name)
            + _e("AttachmentName", a.name)
            + "</edXML:Reference>"
            for a in package.attachments
        )
        + "</edXML:edXMLManifest></edXML:edXMLBody>"
    )
    attachments = (
        "<AttachmentEncoded>"
        + "".join(
            "<Attachment>"
            f"<ContentId>{escape(a.content_id)}</ContentId>"
            f"<AttachmentName>{escape(a.name)}</AttachmentName>"
            f"<Description>{escape(a.description or a.name)}</Description>"
            f"<ContentType>{escape(a.content_type)}</ContentType>"
            f"<ContentTransferEncoded>{base64.b64encode(a.data).decode()}</ContentTransferEncoded>"
            "</Attachment>"
            for a in package.attachments
        )
        + "</AttachmentEncoded>"
    )
    if not package.attachments:  # a revocation carries no file: no manifest, no attachments
        return _wrap(header)
    return _wrap(header, body, attachments)


def build_status(message: StatusMessage) -> bytes:
    """The edXML bytes of a status message."""
    header = (
        "<edXML:MessageHeader>"
        + _organ("From", message.sender)
        + "<edXML:ResponseFor>"
        + _e("OrganId", message.response_organ_id)
        + _e("Code", message.response_code)
        + _e("PromulgationDate", _day(message.response_date))
        + _e("DocumentId", message.response_document_id)
        + "</edXML:ResponseFor><edXML:StaffInfo>"
        + _e("Department", message.department)
        + _e("Staff", message.staff)
        + _e("Mobile", message.mobile)
        + _e("Email", message.email)
        + "</edXML:StaffInfo>"
        + _e("StatusCode", message.status_code)
        + _e("Description", message.description)
        + _e(
            "Timestamp",
            message.timestamp.strftime(MOMENT_FORMAT) if message.timestamp else "",
        )
        + "</edXML:MessageHeader>"
    )
    return _wrap(header)


# --- parsing ------------------------------------------------------------------------------


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_pis=True,
    )


def _load(data: bytes) -> etree._Element:
    if len(data) > MAX_PACKAGE_BYTES:
        raise InvalidInput("edxml_too_large", limit=MAX_PACKAGE_BYTES)
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise InvalidInput("edxml_refused", reason="DOCTYPE")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidInput("edxml_refused", reason=str(exc)[:200]) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise InvalidInput("edxml_refused", reason="DOCTYPE")
    if root.tag != f"{_Q}edXML":
        raise InvalidInput("edxml_refused", reason=f"root {str(root.tag)[:80]}")
    return root


def _text(node: etree._Element | None, path: str) -> str:
    if node is None:
        return ""
    found = node.find(_path(path))
    return (found.text or "").strip() if found is not None else ""


def _path(path: str) -> str:
    return "/".join(f"{_Q}{part}" for part in path.split("/"))


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except ValueError:
        return default


def _date(value: str, problems: list[str], what: str) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, DAY_FORMAT).date()
    except ValueError:
        problems.append(f"{what}: not yyyy/MM/dd ({value[:40]})")
        return None


def _organ_of(node: etree._Element, problems: list[str], what: str) -> Organ:
    organ = Organ(
        organ_id=_text(node, "OrganId"),
        name=_text(node, "OrganName"),
        in_charge=_text(node, "OrganizationInCharge"),
        address=_text(node, "OrganAdd"),
        email=_text(node, "Email"),
        telephone=_text(node, "Telephone"),
        fax=_text(node, "Fax"),
        website=_text(node, "Website"),
    )
    try:
        parse_code(organ.organ_id)
    except InvalidInput:
        problems.append(f"{what}: {organ.organ_id[:40]!r} is not an identifier code")
    return organ


def parse_package(data: bytes) -> DocumentPackage | StatusMessage:
    """Read a document or status message.

    :raises InvalidInput: ``edxml_too_large`` or ``edxml_refused`` (not XML, a DTD, not edXML,
        no message header, a broken attachment).
    """
    root = _load(data)
    header = root.find(_path("edXMLEnvelope/edXMLHeader/MessageHeader"))
    if header is None:
        raise InvalidInput("edxml_refused", reason="no MessageHeader")
    problems: list[str] = []
    from_node = header.find(_path("From"))
    if from_node is None:
        raise InvalidInput("edxml_refused", reason="no From")
    sender = _organ_of(from_node, problems, "From")
    if header.find(_path("StatusCode")) is not None:
        stamp = _text(header, "Timestamp")
        try:
            timestamp = datetime.strptime(stamp, MOMENT_FORMAT) if stamp else None
        except ValueError:
            problems.append(f"Timestamp: not yyyy/MM/dd HH:mm:ss ({stamp[:40]})")
            timestamp = None
        return StatusMessage(
            sender=sender,
            response_organ_id=_text(header, "ResponseFor/OrganId"),
            response_code=_text(header, "ResponseFor/Code"),
            response_date=_date(
                _text(header, "ResponseFor/PromulgationDate"), problems, "ResponseFor"
            ),
            response_document_id=_text(header, "ResponseFor/DocumentId"),
            status_code=_text(header, "StatusCode"),
            description=_text(header, "Description"),
            timestamp=timestamp,
            staff=_text(header, "StaffInfo/Staff"),
            department=_text(header, "StaffInfo/Department"),
            email=_text(header, "StaffInfo/Email"),
            mobile=_text(header, "StaffInfo/Mobile"),
            problems=tuple(problems),
        )
    recipients = tuple(_organ_of(node, problems, "To") for node in header.findall(_path("To")))
    trace_list = root.find(_path("edXMLEnvelope/edXMLHeader/TraceHeaderList"))
    business_node = trace_list.find(_path("Bussiness")) if trace_list is not None else None
    replaced = tuple(
        (
            _text(info, "DocumentId"),
            tuple((o.text or "").strip() for o in info.findall(_path("OrganIdList/OrganId"))),
        )
        for info in (
            business_node.findall(_path("ReplacementInfoList/ReplacementInfo"))
            if business_node is not None
            else []
        )
    )
    business = Business(
        doc_type=_int(_text(business_node, "BussinessDocType")),
        reason=_text(business_node, "BussinessDocReason"),
        document_id=_text(business_node, "DocumentId"),
        paper=_text(business_node, "Paper") in {"1", "true"},
        staff=_text(business_node, "StaffInfo/Staff"),
        department=_text(business_node, "StaffInfo/Department"),
        email=_text(business_node, "StaffInfo/Email"),
        mobile=_text(business_node, "StaffInfo/Mobile"),
        replaced=replaced,
    )
    trace = tuple(
        (_text(t, "OrganId"), _text(t, "Timestamp"))
        for t in (trace_list.findall(_path("TraceHeader")) if trace_list is not None else [])
    )
    attachments = []
    for node in root.findall(_path("AttachmentEncoded/Attachment")):
        encoded = _text(node, "ContentTransferEncoded")
        try:
            raw = base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError):
            raise InvalidInput("edxml_refused", reason="attachment is not base64") from None
        attachments.append(
            Attachment(
                content_id=_text(node, "ContentId"),
                name=_text(node, "AttachmentName"),
                content_type=_text(node, "ContentType"),
                description=_text(node, "Description"),
                data=raw,
            )
        )
    return DocumentPackage(
        sender=sender,
        recipients=recipients,
        document_id=_text(header, "DocumentId"),
        code_number=_text(header, "Code/CodeNumber"),
        code_notation=_text(header, "Code/CodeNotation"),
        place=_text(header, "PromulgationInfo/Place"),
        promulgation_date=_date(
            _text(header, "PromulgationInfo/PromulgationDate"), problems, "PromulgationDate"
        ),
        type_code=_int(_text(header, "DocumentType/Type")),
        type_name=_text(header, "DocumentType/TypeName"),
        subject=_text(header, "Subject"),
        content=_text(header, "Content"),
        signer_competence=_text(header, "SignerInfo/Competence"),
        signer_position=_text(header, "SignerInfo/Position"),
        signer_name=_text(header, "SignerInfo/FullName"),
        due_date=_date(_text(header, "DueDate"), problems, "DueDate"),
        priority=_int(_text(header, "OtherInfo/Priority")),
        steering_type=_int(_text(header, "SteeringType")),
        to_places=tuple((p.text or "").strip() for p in header.findall(_path("ToPlaces/Place"))),
        business=business,
        trace=trace,
        attachments=tuple(attachments),
        problems=tuple(problems),
    )


_schema: etree.XMLSchema | None = None


def validate(data: bytes) -> list[str]:
    """Problems of ``data`` against our XSD (empty when it validates)."""
    global _schema  # noqa: PLW0603 - parsed once per process
    if _schema is None:
        _schema = etree.XMLSchema(etree.parse(str(XSD_PATH), parser=_parser()))
    document = etree.fromstring(data, parser=_parser())
    if _schema.validate(document):
        return []
    return [f"line {e.line}: {e.message}" for e in _schema.error_log]
